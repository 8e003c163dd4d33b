package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const devicesUsage = `usage: custodyctl [--server URL --ca FILE] devices COMMAND
  token --label TEXT [--ttl DURATION]   mint a one-time enrollment token (shown once; default TTL 24h)
  tokens                                list the tokens kept (hash, label, expiry, use; never the token)
  revoke ID [--reason TEXT]             stop admitting a device, and close its open sessions
  revoked                               list the revoked devices
  marks                                 each device's high-water mark per epoch
`

func runDevices(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, devicesUsage)
		return 2
	}
	var (
		b   []byte
		err error
	)
	fs := flag.NewFlagSet("devices "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	switch args[0] {
	case "token":
		label := fs.String("label", "", "what the token is for, e.g. \"goods-in handheld 4\" (required)")
		ttl := fs.Duration("ttl", 24*time.Hour, "how long the token stays valid")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 || *label == "" {
			fmt.Fprint(e.stderr, devicesUsage)
			return 2
		}
		b, err = srvCall(ctx, e, http.MethodPost, "/api/v1/devices/tokens", map[string]string{"label": *label, "ttl": ttl.String()}, time.Minute)
		if err == nil {
			var tok struct{ Token, CAFingerprint string }
			if json.Unmarshal(b, &tok) == nil && tok.Token != "" {
				fmt.Fprintf(e.stderr, "enroll a handheld with (the token works once):\n  custody-hh enroll --server %s --token %s --ca-fingerprint %s\n",
					strings.TrimSuffix(e.server, "/"), tok.Token, tok.CAFingerprint)
			}
		}
	case "tokens", "revoked", "marks":
		if len(args) != 1 {
			fmt.Fprint(e.stderr, devicesUsage)
			return 2
		}
		path := map[string]string{"tokens": "/api/v1/devices/tokens", "revoked": "/api/v1/devices/revoked", "marks": "/api/v1/devices"}[args[0]]
		b, err = srvCall(ctx, e, http.MethodGet, path, nil, time.Minute)
	case "revoke":
		reason := fs.String("reason", "", "why (lost, stolen, retired …)")
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprint(e.stderr, devicesUsage)
			return 2
		}
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 0 {
			fmt.Fprint(e.stderr, devicesUsage)
			return 2
		}
		b, err = srvCall(ctx, e, http.MethodPost, "/api/v1/devices/"+url.PathEscape(args[1])+"/revoke", map[string]string{"reason": *reason}, time.Minute)
	default:
		fmt.Fprintf(e.stderr, "custodyctl: unknown devices command %q\n", args[0])
		fmt.Fprint(e.stderr, devicesUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "custodyctl:", err)
		return 1
	}
	printJSON(e.stdout, b)
	return 0
}
