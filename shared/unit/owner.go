package unit

import (
	"fmt"

	"github.com/custodyhq/custody/shared/event"
)

// Owners tells who owns a GTIN: the client of its product in the master
// data. ok is false for a GTIN that is not in the master data (an
// unknown product is received to quarantine, not refused).
type Owners func(gtin string) (client string, ok bool, err error)

// GTINOwned decides the rule "a GTIN belongs to one client": a GTIN that
// is a product of a client other than client is not client's to name
// in an event, an ASN, an order or a shipment. It returns "" when client
// may name gtin (its own product, or a GTIN no product has), else the
// reason a person reads. The reason names only the GTIN and client:
// nothing of the other client (who it is, what it holds) leaks through a
// refusal. A nil owners allows everything.
func GTINOwned(owners Owners, gtin, client string) (string, error) {
	if owners == nil || gtin == "" {
		return "", nil
	}
	owner, ok, err := owners(gtin)
	if err != nil {
		return "", fmt.Errorf("owner of %s: %w", gtin, err)
	}
	if ok && owner != client {
		return fmt.Sprintf("GTIN %s is not a product of client %s", gtin, client), nil
	}
	return "", nil
}

// KeyOwned is GTINOwned for a unit key: an SSCC has no GTIN and is
// judged by the unit it names (see NotTheClients).
func KeyOwned(owners Owners, k event.Key, client string) (string, error) {
	return GTINOwned(owners, k.GTIN(), client)
}

// NotTheClients is the refusal of an event that names a unit of another
// client, or of a GTIN another client owns: the same words for both, and
// never the other client's name, state or version.
func NotTheClients(k event.Key, client string) string {
	return fmt.Sprintf("%s is not stock of client %s: set it aside and call a lead", k, client)
}
