package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodyhq/custody/certs"
)

const usersUsage = `usage: custodyctl --server https://… --ca FILE --cert FILE --key FILE users COMMAND
  cert ID [--out DIR]          make a key here and have the site sign a user certificate for user ID
                               (admin); writes DIR/ID.pem and DIR/ID-key.pem (default DIR: .)
  revoke ID [--reason TEXT]    refuse every certificate of user ID issued until now (admin); certificates
                               issued afterwards (users cert) work
  password ID                  set user ID's console password (admin), read from the first line of stdin;
                               ends the user's console sessions
  pin ID                       set user ID's PIN (admin) to the digits read from standard input (one line);
                               the site keeps only the verifier handhelds check offline
`

func runUsers(ctx context.Context, e *env, args []string) int {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		fmt.Fprint(e.stderr, usersUsage)
		return 2
	}
	cmd, id := args[0], args[1]
	fs := flag.NewFlagSet("users "+cmd, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	switch cmd {
	case "cert":
		out := fs.String("out", ".", "directory for ID.pem and ID-key.pem")
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 0 {
			fmt.Fprint(e.stderr, usersUsage)
			return 2
		}
		certFile, keyFile, err := userCert(ctx, e, id, *out)
		if err != nil {
			fmt.Fprintln(e.stderr, "custodyctl: users cert:", err)
			return 1
		}
		b, _ := json.Marshal(map[string]string{"user": id, "cert": certFile, "key": keyFile})
		printJSON(e.stdout, b)
	case "revoke":
		reason := fs.String("reason", "", "why (key lost, left the company …)")
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 0 {
			fmt.Fprint(e.stderr, usersUsage)
			return 2
		}
		b, err := srvCall(ctx, e, http.MethodPost, "/api/v1/users/"+url.PathEscape(id)+"/revoke-certificates", map[string]string{"reason": *reason}, time.Minute)
		if err != nil {
			fmt.Fprintln(e.stderr, "custodyctl: users revoke:", err)
			return 1
		}
		printJSON(e.stdout, b)
	case "password":
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 0 {
			fmt.Fprint(e.stderr, usersUsage)
			return 2
		}
		pw, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(e.stderr, "custodyctl: users password: read stdin:", err)
			return 1
		}
		pw = strings.TrimRight(pw, "\r\n")
		if pw == "" {
			fmt.Fprintln(e.stderr, "custodyctl: users password: give the password on stdin")
			return 2
		}
		b, err := srvCall(ctx, e, http.MethodPut, "/api/v1/users/"+url.PathEscape(id)+"/password", map[string]string{"password": pw}, time.Minute)
		if err != nil {
			fmt.Fprintln(e.stderr, "custodyctl: users password:", err)
			return 1
		}
		printJSON(e.stdout, b)
	case "pin":
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 0 {
			fmt.Fprint(e.stderr, usersUsage)
			return 2
		}
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 256)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(e.stderr, "custodyctl: users pin: reading the PIN:", err)
			return 1
		}
		pin := strings.TrimSpace(line)
		if pin == "" {
			fmt.Fprintln(e.stderr, "custodyctl: users pin: no PIN on standard input")
			return 2
		}
		b, err := srvCall(ctx, e, http.MethodPost, "/api/v1/users/"+url.PathEscape(id)+"/pin", map[string]string{"pin": pin}, time.Minute)
		if err != nil {
			fmt.Fprintln(e.stderr, "custodyctl: users pin:", err)
			return 1
		}
		printJSON(e.stdout, b)
	default:
		fmt.Fprintf(e.stderr, "custodyctl: unknown users command %q\n", cmd)
		fmt.Fprint(e.stderr, usersUsage)
		return 2
	}
	return 0
}

// userCert makes a key, has the site sign a certificate of user id for
// it, and writes both into dir (never over existing files). The key
// does not leave this machine.
func userCert(ctx context.Context, e *env, id, dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem")
	if filepath.Base(certFile) != id+".pem" || strings.ContainsAny(id, `/\`) {
		return "", "", fmt.Errorf("user id %q cannot name a file", id)
	}
	for _, f := range []string{certFile, keyFile} {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("%s exists: nothing is overwritten", f)
		}
	}
	key, err := certs.NewKey()
	if err != nil {
		return "", "", err
	}
	csr, err := certs.NewCSR(key, id)
	if err != nil {
		return "", "", err
	}
	b, err := srvCall(ctx, e, http.MethodPost, "/api/v1/users/"+url.PathEscape(id)+"/certificate", map[string]string{"csr": string(csr)}, time.Minute)
	if err != nil {
		return "", "", err
	}
	var ans struct{ User, Certificate string }
	if err := json.Unmarshal(b, &ans); err != nil {
		return "", "", fmt.Errorf("the site's answer: %w", err)
	}
	cert, err := certs.ParseCertPEM([]byte(ans.Certificate))
	if err != nil {
		return "", "", fmt.Errorf("the site's answer: %w", err)
	}
	if u, err := certs.UserFromCert(cert); err != nil || u.Name != id {
		return "", "", fmt.Errorf("the site signed a certificate for %q, not %q (%v)", u.Name, id, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	if err := (&certs.Leaf{Cert: cert, Key: key}).Save(certFile, keyFile); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
