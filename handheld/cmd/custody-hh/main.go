// Command custody-hh runs the handheld engine without a screen: it loads
// a replica from a snapshot file, runs workflows from a script of
// commands and scans, and shows the outbox.
//
//	custody-hh demo-snapshot -o FILE [-seed N] [-pallets P -cases C -units U -stock S] [-today YYYY-MM-DD]
//	custody-hh load    [-data DIR] [-device ID] SNAPSHOT.json
//	custody-hh run     [-data DIR] [-device ID] [-devnum N] [SCRIPT|-]
//	custody-hh outbox  [-data DIR] [-device ID] [-n MAX]
//	custody-hh ack     [-data DIR] [-device ID] EPOCH SEQ
//	custody-hh sync    [-data DIR] [-device ID] [-server URL] [-for DUR] [-ca FILE]
//	custody-hh messages [-data DIR] [-device ID]
//	custody-hh enroll  [-data DIR] -server https://HOST:PORT -token T (-ca-fingerprint F | -ca FILE)
//
// sync pushes the outbox to the site and brings the replica up to date
// over the sync websocket, then prints what it did; messages lists the
// conflicts and refusals the site reported for this device's events.
//
// enroll makes the device's key in DIR, trades the one-time token an
// admin minted (custodyctl devices token) for a device certificate, and
// keeps key, certificate and site CA in DIR. It must come before the
// first use of DIR: the device id is then the certificate's (derived
// from the key), every command uses it, and sync speaks wss:// with the
// certificate. Without a certificate, -device names the device (default
// hh-demo), which a site admits only with --insecure-devices.
//
// run prints one JSON line per step: {"line":…, "input":…, "verdict":
// "accepted"|"warning"|"refused", "cue":…, "reason":…, …}. Script lines
// are commands (login USER PIN, receive ASN, verify, close, pick ORDER,
// short LINE REASON, pack new|SSCC, unpack, ship SHIPMENT [DEST], void
// SHIPMENT, hold REASON [NOTE], hold-lot GTIN LOT REASON, release
// [REASON], release-lot GTIN LOT, destroy REASON, decommission REASON,
// revert, lookup [KEY], return) or scanner data, with the group
// separator as the 0x1D byte or written <GS>. See handheld/README.md.
//
// Unless GOMEMLIMIT is set, the Go heap is softly limited to 128 MiB, as
// on a handheld.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/script"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/master"
)

// defaultMemLimit is the soft heap limit when GOMEMLIMIT is unset.
const defaultMemLimit = 128 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemLimit)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(os.Args[1:], os.Stdin, os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "custody-hh:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  custody-hh demo-snapshot -o FILE [-seed N] [-pallets P -cases C -units U -stock S] [-today YYYY-MM-DD]
  custody-hh load    [-data DIR] [-device ID] SNAPSHOT.json
  custody-hh run     [-data DIR] [-device ID] [-devnum N] [SCRIPT|-]
  custody-hh outbox  [-data DIR] [-device ID] [-n MAX]
  custody-hh ack     [-data DIR] [-device ID] EPOCH SEQ
  custody-hh sync    [-data DIR] [-device ID] [-server URL] [-for DUR] [-ca FILE]
  custody-hh messages [-data DIR] [-device ID]
  custody-hh enroll  [-data DIR] -server https://HOST:PORT -token T (-ca-fingerprint F | -ca FILE)

Script lines (run): commands or scanner data (GS as 0x1D or <GS>):
  login USER PIN | logout | receive ASN | verify | close | pick ORDER
  short LINE REASON | pack new | pack SSCC | unpack | ship SHIPMENT [DEST]
  void SHIPMENT | hold REASON [NOTE] | hold-lot GTIN LOT REASON [NOTE]
  release [REASON] | release-lot GTIN LOT | destroy REASON
  decommission REASON | revert | lookup [KEY] | return | scan DATA
Each step prints one JSON line with its verdict (accepted, warning, refused),
sound cue and reason.`

var errUsage = errors.New("bad usage")

func run(args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	data := fs.String("data", "custody-hh-data", "data directory of the local replica")
	device := fs.String("device", "", "device id (default: the enrolled device's, else "+defaultDevice+")")
	devnum := fs.Int("devnum", 0, "device number (1-999): the device's SSCC range, stored in the data dir at first use (0: the stored one)")
	switch cmd {
	case "demo-snapshot":
		return demoSnapshot(args, stdout)
	case "load":
		if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
			return errUsage
		}
		return withEngine(*data, *device, *devnum, log, func(e *engine.Engine) error {
			b, err := os.ReadFile(fs.Arg(0))
			if err != nil {
				return err
			}
			var snap master.Snapshot
			if err := json.Unmarshal(b, &snap); err != nil {
				return fmt.Errorf("snapshot %s: %w", fs.Arg(0), err)
			}
			n, err := e.Load(&snap)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(map[string]any{"loaded": fs.Arg(0), "units": n, "epoch": e.Store().Epoch()})
		})
	case "run":
		if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
			return errUsage
		}
		in := stdin
		if fs.NArg() == 1 && fs.Arg(0) != "-" {
			f, err := os.Open(fs.Arg(0))
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		return withEngine(*data, *device, *devnum, log, func(e *engine.Engine) error {
			sum, err := script.Run(e, in, stdout)
			log.Info("script done", "steps", sum.Steps, "accepted", sum.Accepted, "warnings", sum.Warnings, "refused", sum.Refused)
			return err
		})
	case "outbox":
		max := fs.Int("n", 0, "at most this many events (0: all)")
		if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
			return errUsage
		}
		return withStore(*data, *device, log, func(st *store.Store) error {
			evs, err := st.Pending(*max)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(stdout)
			for i := range evs {
				if err := enc.Encode(&evs[i]); err != nil {
					return err
				}
			}
			r, err := st.Outbox()
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "epoch %d: %d pending, last seq %d, acked through %d\n", r.Epoch, r.Pending, r.Last, r.Acked)
			return nil
		})
	case "sync":
		server := fs.String("server", "", "the site's API URL, or its ws:// or wss:// sync URL (default "+
			"https://127.0.0.1:8081 for an enrolled device, else http://127.0.0.1:8081)")
		wait := fs.Duration("for", 30*time.Second, "give up after this long (0: no limit)")
		caFile := fs.String("ca", "", "the site CA to trust over https when the device is not enrolled")
		if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
			return errUsage
		}
		return withEngine(*data, *device, *devnum, log, func(e *engine.Engine) error {
			return syncOnce(e, *data, syncOptions{server: *server, wait: *wait, caFile: *caFile}, stdout, log)
		})
	case "enroll":
		server := fs.String("server", "", "the site's API, https://HOST:PORT")
		token := fs.String("token", "", "the one-time enrollment token")
		fingerprint := fs.String("ca-fingerprint", "", "the site CA's fingerprint (hex SHA-256), as custodyctl devices token prints it")
		caFile := fs.String("ca", "", "the site CA certificate (instead of, or as well as, -ca-fingerprint)")
		if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *server == "" || *token == "" || (*fingerprint == "" && *caFile == "") {
			fmt.Fprintln(os.Stderr, "usage: custody-hh enroll [-data DIR] -server https://HOST:PORT -token T (-ca-fingerprint F | -ca FILE)")
			return errUsage
		}
		return enroll(*data, *device, *server, *token, *fingerprint, *caFile, stdout)
	case "messages":
		if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
			return errUsage
		}
		return withEngine(*data, *device, *devnum, log, func(e *engine.Engine) error {
			return printMessages(e, *data, stdout)
		})
	case "ack":
		if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
			return errUsage
		}
		epoch, err1 := strconv.ParseUint(fs.Arg(0), 10, 32)
		seq, err2 := strconv.ParseUint(fs.Arg(1), 10, 64)
		if err1 != nil || err2 != nil {
			return errUsage
		}
		return withStore(*data, *device, log, func(st *store.Store) error {
			n, err := st.AckThrough(uint32(epoch), seq)
			if err != nil {
				return err
			}
			return json.NewEncoder(stdout).Encode(map[string]any{"pruned": n})
		})
	}
	fmt.Fprintln(os.Stderr, usage)
	return errUsage
}

func withStore(dir, device string, log *slog.Logger, fn func(*store.Store) error) error {
	device, err := deviceID(dir, device)
	if err != nil {
		return err
	}
	st, err := store.Open(dir, store.Options{Device: device, Logger: log})
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

func withEngine(dir, device string, devnum int, log *slog.Logger, fn func(*engine.Engine) error) error {
	return withStore(dir, device, log, func(st *store.Store) error {
		e, err := engine.New(st, engine.Config{DeviceNumber: devnum, Logger: log})
		if err != nil {
			return err
		}
		return fn(e)
	})
}

func demoSnapshot(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo-snapshot", flag.ContinueOnError)
	p := demo.DefaultParams()
	out := fs.String("o", "-", "output file (- for stdout)")
	fs.Uint64Var(&p.Seed, "seed", p.Seed, "seed")
	fs.IntVar(&p.Pallets, "pallets", p.Pallets, "pallets on the inbound ASN")
	fs.IntVar(&p.CasesPerPallet, "cases", p.CasesPerPallet, "cases per pallet")
	fs.IntVar(&p.UnitsPerCase, "units", p.UnitsPerCase, "units per case")
	fs.IntVar(&p.StockPerLot, "stock", p.StockPerLot, "units in stock per product lot")
	today := fs.String("today", "", "date that anchors expiries (YYYY-MM-DD; default 2026-11-01)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if *today != "" {
		t, err := time.Parse("2006-01-02", *today)
		if err != nil {
			return fmt.Errorf("-today: %w", err)
		}
		p.Today = t
	}
	fx, err := demo.Build(p)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(&fx.Snapshot); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "demo PINs: op1 %s, op2 %s, lead1 %s, admin %s\n", fx.PIN("op1"), fx.PIN("op2"), fx.PIN("lead1"), fx.PIN("admin"))
	return nil
}
