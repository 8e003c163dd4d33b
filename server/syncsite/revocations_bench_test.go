package syncsite_test

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
)

// BenchmarkVerifyDeviceWithRevocations: what admitting one sync
// connection costs the endpoint: the certificate checked against the
// site CA and the device looked up among 1,000 revoked devices in the
// replicated state (Badger).
func BenchmarkVerifyDeviceWithRevocations(b *testing.B) {
	st, err := state.Open(b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p, err := command.New(st, 0)
	if err != nil {
		b.Fatal(err)
	}
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	var entries []command.Entry
	for i := range 1000 {
		key, _ := certs.NewKey()
		id, _ := certs.DeviceIDFromPublicKey(key.Public())
		data, _ := command.EncodeJSON(command.TypeRevokeDevice, command.RevokeDevice{Device: id.String(), At: time.Now()})
		entries = append(entries, command.Entry{Index: uint64(i + 1), Data: data})
	}
	p.Apply(entries)
	dev, _, err := ca.IssueDevice()
	if err != nil {
		b.Fatal(err)
	}
	v := certs.NewVerifier(ca.Cert(), syncsite.NewRevocations(st, nil), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(dev.Cert, certs.KindDevice); err != nil {
			b.Fatal(err)
		}
	}
}
