package command

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// NetworkDuplicate raises a high-severity exception on a unit of this
// site whose GTIN and serial the operator of the site's network found
// received at other sites too (a cloned code entering the network
// twice). The operator asks for it through the API; the site decides:
// a unit it does not know is refused, and the same finding twice is one
// exception.
type NetworkDuplicate struct {
	Unit  event.Key     `json:"unit"`
	Sites []string      `json:"sites"` // the other sites, as the operator names them
	By    string        `json:"by"`
	At    hlc.Timestamp `json:"at"` // stamped by the proposer
}

// Limits of a NetworkDuplicate.
const (
	MaxNetworkSites = 64
	maxSiteName     = 64
)

// Check refuses a finding apply could not take.
func (v *NetworkDuplicate) Check() error {
	switch {
	case v.Unit.Validate() != nil || v.Unit.GTIN() == "":
		return fmt.Errorf("%w: network duplicate: unit %q is not a GTIN and serial", ErrRejected, v.Unit)
	case len(v.Sites) == 0 || len(v.Sites) > MaxNetworkSites:
		return fmt.Errorf("%w: network duplicate: name 1 to %d other sites", ErrRejected, MaxNetworkSites)
	case v.At.IsZero():
		return fmt.Errorf("%w: network duplicate without a time", ErrRejected)
	}
	for _, s := range v.Sites {
		if s == "" || len(s) > maxSiteName {
			return fmt.Errorf("%w: network duplicate: a site name is 1 to %d bytes", ErrRejected, maxSiteName)
		}
	}
	return nil
}

// networkID is the finding's exception id: the same unit found at the
// same other sites is the same exception.
func (v *NetworkDuplicate) networkID() string {
	sites := slices.Clone(v.Sites)
	slices.Sort(sites)
	h := sha256.Sum256([]byte("network\x00" + strings.Join(sites, "\x00")))
	var id event.ID
	copy(id[:], h[:])
	return unit.ExceptionID(unit.RuleDuplicateInNetwork, v.Unit, id)
}

func (b *batch) networkDuplicate(v *NetworkDuplicate) any {
	if err := v.Check(); err != nil {
		return err
	}
	u, err := b.tx.Unit(v.Unit)
	must(err, "unit")
	if !u.Known() || u.Status == unit.StatusExpected {
		return fmt.Errorf("%w: network duplicate: %s was not received here", ErrRejected, v.Unit)
	}
	id := v.networkID()
	if _, err := b.tx.Exception(id); err == nil {
		return id
	} else if !errors.Is(err, state.ErrNotFound) {
		must(err, "exception")
	}
	site := ""
	if s, err := b.tx.Site(); err == nil {
		site = s.ID
	}
	sites := slices.Clone(v.Sites)
	slices.Sort(sites)
	x := unit.Exception{ID: id, Rule: unit.RuleDuplicateInNetwork, Severity: unit.RuleDuplicateInNetwork.Info().Severity,
		Status: unit.ExceptionOpen, Unit: v.Unit, Client: u.Client, Site: site,
		Detail: fmt.Sprintf("%s was also received at %s: its code may be cloned (found by the network's serial match, asked by %s)",
			v.Unit, strings.Join(sites, ", "), v.By),
		Opened: v.At, Updated: v.At}
	must(b.tx.PutException(x), "exception")
	return id
}
