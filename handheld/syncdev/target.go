package syncdev

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/custodyhq/custody/certs"
)

// Target is the sync URL and TLS configuration for the device whose data
// directory is dir: an enrolled device speaks wss:// with its
// certificate and trusts only its site's CA; an unenrolled one speaks
// ws://, or wss:// without a certificate when given the CA file (a site
// admits it only with --insecure-devices). server is the site's API or
// sync URL; "" is the local site's default.
func Target(dir, server, caFile string) (string, *tls.Config, error) {
	id, err := LoadIdentity(dir)
	enrolled := err == nil
	if err != nil && !errors.Is(err, ErrNoIdentity) {
		return "", nil, err
	}
	if server == "" {
		server = "http://127.0.0.1:8081"
		if enrolled {
			server = "https://127.0.0.1:8081"
		}
	}
	url := strings.TrimRight(server, "/")
	if strings.HasPrefix(url, "http") {
		url = "ws" + strings.TrimPrefix(url, "http")
	}
	if !strings.HasSuffix(url, "/sync") {
		url += "/api/v1/sync"
	}
	secure := strings.HasPrefix(url, "wss://")
	switch {
	case enrolled && !secure:
		return "", nil, fmt.Errorf("device %s is enrolled: sync with an https:// server, not %s", id.Device.Short(), server)
	case enrolled:
		return url, id.TLSConfig(), nil
	case secure && caFile != "":
		ca, err := certs.LoadCACert(caFile)
		if err != nil {
			return "", nil, fmt.Errorf("-ca: %w", err)
		}
		return url, certs.ClientTLS(ca, tls.Certificate{}, ""), nil
	case secure:
		return "", nil, fmt.Errorf("%s: an unenrolled device needs -ca FILE to trust the site (or enroll it: custody-hh enroll)", server)
	}
	return url, nil, nil
}
