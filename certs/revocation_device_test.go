package certs

import (
	"errors"
	"math/big"
	"sync"
	"testing"
)

// deviceList revokes devices by id and serials from a RevocationList.
type deviceList struct {
	*RevocationList
	mu      sync.Mutex
	devices map[DeviceID]bool
}

func (d *deviceList) IsDeviceRevoked(id DeviceID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.devices[id]
}

// TestVerifierRevokesDevicesByID: a device revoked by id is refused with
// every certificate of its key, including one issued after the
// revocation; other devices and other kinds are not affected.
func TestVerifierRevokesDevicesByID(t *testing.T) {
	clk := newTestClock()
	ca := newTestCA(t, clk, "Revoke")
	lost, lostID, err := ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	renewed, _, err := ca.SignDevice(lost.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	node, err := ca.IssueNode("n1", nil)
	if err != nil {
		t.Fatal(err)
	}
	list := &deviceList{RevocationList: NewRevocationList(), devices: map[DeviceID]bool{lostID: true}}
	v := NewVerifier(ca.Cert(), list, clk.Now)
	for _, tc := range []struct {
		name    string
		verify  func() error
		revoked bool
	}{
		{"revoked device", func() error { _, err := v.Verify(lost.Cert, KindDevice); return err }, true},
		{"same key, newer certificate", func() error { _, err := v.Verify(renewed, KindDevice); return err }, true},
		{"other device", func() error { _, err := v.Verify(other.Cert, KindDevice); return err }, false},
		{"node", func() error { _, err := v.Verify(node.Cert, KindNode); return err }, false},
	} {
		err := tc.verify()
		if tc.revoked != errors.Is(err, ErrRevoked) || (!tc.revoked && err != nil) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Serial revocation still applies to the same checker.
	list.Revoke(new(big.Int).Set(other.Cert.SerialNumber), clk.Now(), 1)
	if _, err := v.Verify(other.Cert, KindDevice); !errors.Is(err, ErrRevoked) {
		t.Fatalf("serial revocation ignored: %v", err)
	}
}
