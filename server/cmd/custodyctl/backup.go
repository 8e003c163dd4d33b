package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runBackup writes the site state, as the leader sees it, to FILE.
func runBackup(ctx context.Context, e *env, args []string) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(e.stderr, "usage: custodyctl [--server URL] backup FILE")
		return 2
	}
	file := args[0]
	if err := backupTo(ctx, e, file); err != nil {
		fmt.Fprintln(e.stderr, "custodyctl: backup:", err)
		return 1
	}
	return 0
}

func backupTo(ctx context.Context, e *env, file string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(e.server, "/")+"/api/v1/cluster/backup?consistency=leader", nil)
	if err != nil {
		return err
	}
	e.setUser(req)
	hc, err := e.httpClient()
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".custody-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d bytes, state at log index %s\n", file, n, resp.Header.Get("X-Custody-Applied"))
	return nil
}
