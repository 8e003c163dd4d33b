package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/master"
)

// runBin runs a command to completion and returns its output.
func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// lastJSON decodes the last JSON line of out into v.
func lastJSON(t *testing.T, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("no JSON answer (%v):\n%s", err, out)
	}
}

// TestTLSDeviceEnrollment runs a custody-server with --tls and real
// custody-hh and custodyctl processes: an admin mints a token, a
// handheld enrolls with it and pushes its events over wss with its
// certificate, and the site records them under the certificate's device
// id; a handheld without a certificate is refused with a reason, a
// reused token is refused, and a revoked device is refused.
func TestTLSDeviceEnrollment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server and handheld binaries")
	}
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	hhBin := procs.Build(t, dir, "github.com/custodyhq/custody/handheld/cmd/custody-hh")
	ctlBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custodyctl")
	node := procs.StartTLSNode(t, srvBin)
	defer func() {
		if t.Failed() {
			t.Logf("--- %s log tail:\n%s", node.ID, node.Proc.Tail(4000))
		}
	}()
	server := node.TLSURL()
	if procs.Ready(node) {
		t.Fatal("a --tls node answered plain HTTP")
	}
	// The node wrote the admin's certificate when it made the site CA;
	// over HTTPS the user header alone is refused.
	admCert, admKey := node.UserCertFiles("admin")
	if !strings.Contains(node.Proc.Tail(1<<20), admCert) {
		t.Errorf("the node's log does not say where the admin certificate is (%s)", admCert)
	}
	if _, errs, err := runBin(t, ctlBin, "--server", server, "--ca", node.CAFile(), "devices", "tokens"); err == nil ||
		!strings.Contains(errs, "401") || !strings.Contains(errs, "user certificate") {
		t.Fatalf("custodyctl without a user certificate: %v\n%s", err, errs)
	}
	ctl := func(args ...string) (string, string, error) {
		return runBin(t, ctlBin, append([]string{"--server", server, "--ca", node.CAFile(), "--cert", admCert, "--key", admKey}, args...)...)
	}

	// An admin mints a one-time token.
	out, errs, err := ctl("devices", "token", "--label", "goods-in 1", "--ttl", "10m")
	if err != nil {
		t.Fatalf("custodyctl devices token: %v\n%s", err, errs)
	}
	var tok struct{ Token, CAFingerprint, Label string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" || tok.CAFingerprint == "" {
		t.Fatalf("token answer %q: %v", out, err)
	}
	if !strings.Contains(errs, "custody-hh enroll") {
		t.Errorf("no enrollment hint: %s", errs)
	}

	// The handheld enrolls, then works offline.
	hh1 := filepath.Join(dir, "hh1")
	out, errs, err = runBin(t, hhBin, "enroll", "-data", hh1, "-server", server, "-token", tok.Token, "-ca-fingerprint", tok.CAFingerprint)
	if err != nil {
		t.Fatalf("custody-hh enroll: %v\n%s", err, errs)
	}
	var enrolled struct{ Enrolled, CAFingerprint string }
	lastJSON(t, out, &enrolled)
	if enrolled.Enrolled == "" || enrolled.CAFingerprint != tok.CAFingerprint {
		t.Fatalf("enroll answer %s", out)
	}
	snapFile, script := demoWork(t, dir)
	if _, errs, err := runBin(t, hhBin, "load", "-data", hh1, snapFile); err != nil {
		t.Fatalf("custody-hh load: %v\n%s", err, errs)
	}
	if out, errs, err := runBin(t, hhBin, "run", "-data", hh1, script); err != nil || strings.Count(out, `"verdict":"accepted"`) != 6 {
		t.Fatalf("custody-hh run: %v\n%s\n%s", err, out, errs)
	}

	// It syncs over wss with its certificate: every event acknowledged,
	// recorded under the certificate's device id.
	out, errs, err = runBin(t, hhBin, "sync", "-data", hh1, "-server", server, "-for", "30s")
	var synced struct {
		Synced  bool
		Pending uint64
		Cursor  string
	}
	lastJSON(t, out, &synced)
	if err != nil || !synced.Synced || synced.Pending != 0 {
		t.Fatalf("custody-hh sync: %v %+v\n%s\n%s", err, synced, out, errs)
	}
	adm, err := procs.TLSClient(node, "admin")
	if err != nil {
		t.Fatal(err)
	}
	var marks struct {
		Items []struct {
			Device string
			Seq    uint64
		}
	}
	if err := adm.Get("/api/v1/devices", &marks); err != nil {
		t.Fatal(err)
	}
	if len(marks.Items) != 1 || marks.Items[0].Device != enrolled.Enrolled || marks.Items[0].Seq != 3 {
		t.Fatalf("device marks %+v, want %s at 3", marks.Items, enrolled.Enrolled)
	}

	// A handheld without a certificate is refused, and told why.
	hh2 := filepath.Join(dir, "hh2")
	if _, errs, err := runBin(t, hhBin, "load", "-data", hh2, snapFile); err != nil {
		t.Fatalf("custody-hh load: %v\n%s", err, errs)
	}
	out, errs, err = runBin(t, hhBin, "sync", "-data", hh2, "-server", server, "-ca", node.CAFile(), "-for", "3s")
	if err == nil || !strings.Contains(errs+out, "401 Unauthorized: sync needs the client certificate of an enrolled device") {
		t.Fatalf("sync without a certificate: %v\n%s\n%s", err, out, errs)
	}

	// The used token cannot enroll another handheld.
	_, errs, err = runBin(t, hhBin, "enroll", "-data", filepath.Join(dir, "hh3"), "-server", server, "-token", tok.Token,
		"-ca-fingerprint", tok.CAFingerprint)
	if err == nil || !strings.Contains(errs, "403") || !strings.Contains(errs, "already used") {
		t.Fatalf("reused token: %v\n%s", err, errs)
	}

	// Revoked, the first handheld is refused.
	if _, errs, err := ctl("devices", "revoke", enrolled.Enrolled, "--reason", "lost"); err != nil {
		t.Fatalf("custodyctl devices revoke: %v\n%s", err, errs)
	}
	out, errs, err = runBin(t, hhBin, "sync", "-data", hh1, "-server", server, "-for", "3s")
	if err == nil || !strings.Contains(errs+out, "403 Forbidden") || !strings.Contains(errs+out, "revoked") {
		t.Fatalf("sync of a revoked device: %v\n%s\n%s", err, out, errs)
	}
	if out, _, err := ctl("devices", "revoked"); err != nil || !strings.Contains(out, enrolled.Enrolled) {
		t.Fatalf("revoked list: %v %s", err, out)
	}
}

// demoWork writes the demo site's snapshot and a receiving script of six
// steps (three events) for a handheld.
func demoWork(t *testing.T, dir string) (snapFile, scriptFile string) {
	t.Helper()
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 2, 3
	fx, err := demo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&fx.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	snapFile = filepath.Join(dir, "snap.json")
	if err := os.WriteFile(snapFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var asn master.ASN
	for _, a := range fx.Snapshot.ASNs {
		if a.ID == demo.ASNUS {
			asn = a
		}
	}
	if len(asn.Items) < 3 {
		t.Fatalf("demo ASN %s has %d items", demo.ASNUS, len(asn.Items))
	}
	pallet, unit := asn.Items[0].Key, asn.Items[2]
	script := strings.Join([]string{
		fmt.Sprintf("login op2 %s", fx.PIN("op2")),
		"receive " + demo.ASNUS,
		strings.ReplaceAll(string(demo.KeyScan(unit.Key, unit.Lot, unit.Expiry)), "\x1d", "<GS>"),
		string(demo.SSCCScan(pallet.SSCCValue())),
		"hold damaged dropped",
		string(demo.SSCCScan(pallet.SSCCValue())),
	}, "\n")
	scriptFile = filepath.Join(dir, "receive.txt")
	if err := os.WriteFile(scriptFile, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return snapFile, scriptFile
}
