// Command custody-operator serves the operator console of a network of
// Custody sites: the network at a glance, one exception queue, serial
// and lot search, a network lot recall and cross-site duplicate serials.
// It reads each site through the site's HTTP API as the operator's user
// there (a user certificate of that site over HTTPS), caches what it
// read in its own Badger directory, and is never a member of a site's
// cluster.
//
//	custody-operator --config operator.json --data opdata --http 127.0.0.1:8500
//
// The configuration (JSON) lists the sites (id, name, url, console, user,
// ca, cert, key, clients) and the console's users (id, role viewer or
// lead, clients, password verifier). custody-operator password reads a
// password on standard input and prints its verifier for the file.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/operator"
	"github.com/custodyhq/custody/server/password"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "custody-operator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "password" {
		return hashPassword(stdin, stdout)
	}
	fs := flag.NewFlagSet("custody-operator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "operator.json", "the configuration file (JSON)")
	data := fs.String("data", "operator-data", "the operator's own Badger directory (a cache of the sites' state)")
	addr := fs.String("http", "127.0.0.1:8500", "address to serve the console on")
	certFile := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	keyFile := fs.String("tls-key", "", "the key of --tls-cert")
	tz := fs.String("tz", "", "time zone for the pages (IANA name; default: the machine's)")
	poll := fs.Duration("poll", 0, "read every site this often (default: the file's poll, else 10s)")
	timeout := fs.Duration("timeout", 0, "give a site this long to answer one read (default: the file's timeout, else 3s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f, err := os.Open(*config)
	if err != nil {
		return err
	}
	file, err := operator.ReadFile(f)
	f.Close()
	if err != nil {
		return err
	}
	cfg := operator.Config{File: file, DataDir: *data, Logger: log, Secure: *certFile != "", Poll: *poll, Timeout: *timeout}
	if *tz != "" {
		if cfg.Location, err = time.LoadLocation(*tz); err != nil {
			return err
		}
	}
	o, err := operator.New(cfg)
	if err != nil {
		return err
	}
	defer o.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	app := operator.NewApp()
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	o.Mount(app)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- o.Serve(ctx) }()
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	log.Info("custody-operator serving", "addr", ln.Addr().String(), "sites", len(file.Sites), "data", *data)
	select {
	case <-ctx.Done():
	case err = <-errc:
		stop()
	}
	_ = app.ShutdownWithTimeout(5 * time.Second)
	if serr := <-done; serr != nil && err == nil {
		err = serr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// hashPassword reads one line (the password) and prints its verifier as
// the JSON the configuration's "password" field takes.
func hashPassword(stdin io.Reader, stdout io.Writer) error {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	v, err := password.New(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(v)
}
