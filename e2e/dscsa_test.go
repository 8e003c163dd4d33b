package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// TestDSCSAAtTheSite runs a custody-server and a custody-hh process: the
// handheld, offline, receives one case of an ASN, opens it and finds a
// unit missing, and closes the ASN short; it syncs, and the site shows
// the SHORTAGE and the AGGREGATION_MISMATCH. A lead opens an
// investigation on the case from the exception, declares it
// illegitimate, and the Form 3911 draft lists the case's units; a
// shipment the site sends on the owning client's behalf carries the
// transaction information and statement.
func TestDSCSAAtTheSite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server and handheld binaries")
	}
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	hhBin := procs.Build(t, dir, "github.com/custodyhq/custody/handheld/cmd/custody-hh")
	node := procs.StartCluster(t, srvBin, 1, "--insecure-devices")[0]
	defer func() {
		if t.Failed() {
			t.Logf("--- %s log tail:\n%s", node.ID, node.Proc.Tail(4000))
		}
	}()
	adm := procs.Client(node, "admin")
	ctx := context.Background()
	do := func(method, path string, in, out any) {
		t.Helper()
		if err := adm.Do(ctx, method, path, in, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}

	// The site's master data, and the same snapshot on the handheld.
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 2, 3
	fx, err := demo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	snap := &fx.Snapshot
	do("PUT", "/api/v1/site", snap.Site, nil)
	for _, u := range snap.Users {
		do("PUT", "/api/v1/users/"+url.PathEscape(u.ID), u, nil)
	}
	for _, c := range snap.Clients {
		do("PUT", "/api/v1/clients/"+url.PathEscape(c.ID), c, nil)
	}
	for _, x := range snap.Products {
		do("PUT", "/api/v1/products/"+url.PathEscape(x.GTIN), x, nil)
	}
	for _, l := range snap.Locations {
		do("PUT", "/api/v1/locations/"+url.PathEscape(l.ID), l, nil)
	}
	for _, x := range snap.Partners {
		do("PUT", "/api/v1/partners/"+url.PathEscape(x.ID), x, nil)
	}
	asn := fx.ASN(demo.ASNUS)
	do("POST", "/api/v1/asns", asn, nil)
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	snapFile := filepath.Join(dir, "snap.json")
	if err := os.WriteFile(snapFile, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// The first case of the ASN and what it holds.
	var kase event.Key
	var inside []event.Key
	for _, it := range asn.Items {
		if kase == "" && it.Parent != "" && it.Key.IsContainer() {
			kase = it.Key
		}
		if kase != "" && it.Parent == kase {
			inside = append(inside, it.Key)
		}
	}
	if kase == "" || len(inside) < 2 {
		t.Fatalf("demo ASN %s: no case with units (%v)", demo.ASNUS, asn.Items)
	}
	gs := func(b []byte) string { return strings.ReplaceAll(string(b), "\x1d", "<GS>") }
	lines := []string{
		fmt.Sprintf("login op2 %s", fx.PIN("op2")),
		"receive " + demo.ASNUS,
		gs(fx.ScanOf(kase)),
		"verify",
		gs(fx.ScanOf(kase)),
	}
	for _, k := range inside[:len(inside)-1] {
		lines = append(lines, gs(fx.ScanOf(k)))
	}
	lines = append(lines, "close", "receive "+demo.ASNUS, "close")
	script := filepath.Join(dir, "day.txt")
	if err := os.WriteFile(script, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hh := filepath.Join(dir, "hh")
	if _, errs, err := runBin(t, hhBin, "load", "-data", hh, "-device", "hh-dscsa", snapFile); err != nil {
		t.Fatalf("custody-hh load: %v\n%s", err, errs)
	}
	out, errs, err := runBin(t, hhBin, "run", "-data", hh, "-device", "hh-dscsa", script)
	if err != nil || strings.Contains(out, `"verdict":"refused"`) {
		t.Fatalf("custody-hh run: %v\n%s\n%s", err, out, errs)
	}
	out, errs, err = runBin(t, hhBin, "sync", "-data", hh, "-device", "hh-dscsa", "-server", node.URL(), "-for", "30s")
	var synced struct {
		Synced  bool
		Pending uint64
	}
	lastJSON(t, out, &synced)
	if err != nil || !synced.Synced || synced.Pending != 0 {
		t.Fatalf("custody-hh sync: %v %+v\n%s\n%s", err, synced, out, errs)
	}

	// The site shows both exceptions.
	var xs struct {
		Items []struct{ ID, Rule, Unit, Client string }
	}
	do("GET", "/api/v1/exceptions?status=open&consistency=leader", nil, &xs)
	rules := map[string]string{}
	var mismatch string
	for _, x := range xs.Items {
		rules[x.Rule] = x.Unit
		if x.Rule == "AGGREGATION_MISMATCH" {
			mismatch = x.ID
		}
	}
	if _, ok := rules["SHORTAGE"]; !ok || rules["AGGREGATION_MISMATCH"] != string(kase) {
		t.Fatalf("open exceptions at the site: %+v", xs.Items)
	}

	// An investigation from the exception, declared illegitimate.
	var inv struct{ ID, Status string }
	do("POST", "/api/v1/investigations", map[string]any{"client": asn.Client, "scope": "container", "keys": []string{string(kase)},
		"trigger": "exception", "exception": mismatch, "description": "case opened with a unit missing; seal not original"}, &inv)
	do("POST", "/api/v1/investigations/"+inv.ID+"/illegitimate", map[string]any{"note": "the manufacturer has no record of the case"}, &inv)
	if inv.Status != "illegitimate" {
		t.Fatalf("investigation %+v", inv)
	}
	var form struct {
		Products []struct {
			GTIN     string
			Quantity int
			Serials  []string
		}
	}
	do("GET", "/api/v1/investigations/"+inv.ID+"/form3911?consistency=leader", nil, &form)
	var want, got []string
	for _, k := range inside {
		want = append(want, k.Serial())
	}
	for _, p := range form.Products {
		got = append(got, p.Serials...)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("form 3911 serials %v, the case holds %v", got, want)
	}

	// The notifications: FDA's and one to the supplier the case came from.
	var notices struct{ Items []struct{ To, Role string } }
	do("GET", "/api/v1/investigations/"+inv.ID+"/notices?consistency=leader", nil, &notices)
	supplierNotified := false
	for _, n := range notices.Items {
		supplierNotified = supplierNotified || n.To == asn.Supplier && n.Role == "supplier"
	}
	if len(notices.Items) == 0 || notices.Items[0].To != "fda" ||
		slices.ContainsFunc(snap.Partners, func(p master.Partner) bool { return p.ID == asn.Supplier }) && !supplierNotified {
		t.Fatalf("notices %+v (supplier %s)", notices.Items, asn.Supplier)
	}

	// A shipment on the owning client's behalf carries TI/TS.
	var client master.Client
	do("GET", "/api/v1/clients/"+url.PathEscape(asn.Client), nil, &client)
	client.GLN, client.CompanyPrefix, client.SendsTI = "0300010000008", "030001", true
	do("PUT", "/api/v1/clients/"+url.PathEscape(asn.Client), client, nil)
	do("POST", "/api/v1/shipments", map[string]any{"id": "SHP-E2E", "client": asn.Client, "destination": "0399999999991",
		"containers": []string{string(kase)}}, nil)
	doc, errs, err := httpGet(node.URL()+"/api/v1/shipments/SHP-E2E/epcis?format=xml&consistency=leader", "admin")
	if err != nil || !strings.Contains(doc, "dscsaTransactionStatement") || !strings.Contains(doc, "urn:epc:id:sgln:030001.000000.0") {
		t.Fatalf("shipment EPCIS: %v %s\n%s", err, errs, doc)
	}
}

// httpGet reads a non-JSON answer as user.
func httpGet(u, user string) (body, status string, err error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("X-Custody-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return string(b), resp.Status, err
}
