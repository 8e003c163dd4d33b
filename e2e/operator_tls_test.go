package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/operator"
)

// The operator reads a site over HTTPS with a user certificate that
// site issued to the operator's user: the site admits it by the
// certificate alone, and its grants decide what the operator sees.
func TestOperatorOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: not with -short")
	}
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	opBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-operator")
	site := procs.StartTLSNode(t, srvBin)
	adm, err := procs.TLSClient(site, "admin")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []string{"acme", "globex"} {
		if err := adm.Do(ctx, "PUT", "/api/v1/clients/"+c, map[string]any{"name": c}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := adm.Do(ctx, "PUT", "/api/v1/users/operator", map[string]any{"name": "Network operator", "role": "lead", "clients": []string{"acme"}}, nil); err != nil {
		t.Fatal(err)
	}
	key, err := certs.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := certs.NewCSR(key, "operator")
	if err != nil {
		t.Fatal(err)
	}
	var ans api.UserCertAnswer
	if err := adm.Do(ctx, "POST", "/api/v1/users/operator/certificate", api.UserCertRequest{CSR: string(csr)}, &ans); err != nil {
		t.Fatal(err)
	}
	keyPEM, err := certs.EncodeKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "operator.pem"), filepath.Join(dir, "operator-key.pem")
	if err := os.WriteFile(certFile, []byte(ans.Certificate), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pw := "operator tls password"
	file := operator.File{DigestKey: hex.EncodeToString(make([]byte, 32)), Poll: "1s", Timeout: "3s",
		Users: []operator.User{opUser(t, "netlead", operator.RoleLead, pw, "*")},
		Sites: []operator.Site{{ID: "tls", Name: "TLS DC", URL: site.TLSURL(), User: "operator", CA: site.CAFile(), Cert: certFile, Key: keyFile,
			Clients: []string{"acme", "globex"}}}}
	cfg, _ := json.Marshal(file)
	cfgPath := filepath.Join(dir, "operator.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := procs.FreeAddr(t)
	op := procs.Start(t, dir, "operator", opBin, "--config", cfgPath, "--data", filepath.Join(dir, "opdata"), "--http", addr)
	base := "http://" + addr
	procs.WaitFor(t, 60*time.Second, "the operator", func() bool { code, _ := statusOf(base + "/healthz"); return code == 200 })

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	login := get("/login")
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(login)
	if m == nil {
		t.Fatalf("no sign-in form: %.300s", login)
	}
	resp, err := hc.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "user": {"netlead"}, "password": {pw}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var page string
	procs.WaitFor(t, 30*time.Second, "the TLS site up at the operator", func() bool {
		page = get("/")
		return strings.Contains(page, "● up")
	})
	// The site's grants decide: the operator's user there has acme
	// only, so globex (configured) shows no records but is not an error.
	if !strings.Contains(page, "TLS DC") || strings.Contains(page, "certificate") {
		t.Fatalf("network page: %.3000s\noperator log:\n%s", page, op.Tail(30))
	}
}
