// Command custodyctl is the operator's tool for a Custody site: GS1 and
// EPCIS checks that need no server, and cluster administration against a
// running site.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one top-level verb. It returns the process exit code.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what every command gets: its streams and the global options.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	server string // --server URL
	// --ca FILE: the site CA certificate an https:// server must chain
	// to; --cert FILE and --key FILE: a client certificate to present (a
	// user's, which over HTTPS is who custodyctl acts as; a node's, for
	// the node-to-node routes such as cluster join).
	ca, cert, key string
}

func commands() map[string]command {
	return map[string]command{
		"gs1":     {"parse and check GS1 scan data", runGS1},
		"epcis":   {"validate and convert EPCIS documents", runEPCIS},
		"cluster": {"cluster status, join, remove, transfer-leadership", runCluster},
		"backup":  {"write a backup of the site state to a file", runBackup},
		"restore": {"restore a backup into a fresh data directory", runRestore},
		"devices": {"enrollment tokens and device revocation", runDevices},
		"users":   {"user certificates for the HTTPS API", runUsers},
		"recall":  {"recall a lot: hold it, report where its units are", runRecall},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, server: os.Getenv("CUSTODY_SERVER"),
		ca: os.Getenv("CUSTODY_CA"), cert: os.Getenv("CUSTODY_CERT"), key: os.Getenv("CUSTODY_KEY")}
	if e.server == "" {
		e.server = "http://127.0.0.1:8081"
	}
	globals := map[string]*string{"--server": &e.server, "--ca": &e.ca, "--cert": &e.cert, "--key": &e.key}
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(args[0], "=")
		dst, ok := globals[name]
		if !ok {
			break
		}
		switch {
		case hasValue:
			*dst, args = value, args[1:]
		case len(args) > 1:
			*dst, args = args[1], args[2:]
		default:
			fmt.Fprintf(stderr, "custodyctl: %s needs a value\n", name)
			return 2
		}
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "custodyctl: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: custodyctl [--server URL] [--ca FILE] [--cert FILE --key FILE] COMMAND [ARGS]")
	fmt.Fprintln(w, "  (or CUSTODY_SERVER, CUSTODY_CA, CUSTODY_CERT, CUSTODY_KEY; --ca is the site's ca.pem, for https://;")
	fmt.Fprintln(w, "  over https:// the user is the one --cert names: the first node writes the admin's, DIR/certs/admin.pem)")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}
