package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/custodyhq/custody/certs"
)

// httpClient is the client for the site's API. With --ca it speaks
// HTTPS and trusts only the site CA: any node of the site is accepted,
// whatever name it is reached by, as nodes accept one another. --cert
// and --key add a client certificate (a node's certificate is what the
// node-to-node routes, such as cluster join, accept).
func (e *env) httpClient() (*http.Client, error) {
	https := strings.HasPrefix(e.server, "https://")
	if e.ca == "" {
		if https {
			return nil, errors.New("an https:// server needs --ca FILE (the site's ca.pem, in a node's DIR/certs)")
		}
		if e.cert != "" || e.key != "" {
			return nil, errors.New("--cert and --key need --ca and an https:// server")
		}
		return http.DefaultClient, nil
	}
	caCert, err := certs.LoadCACert(e.ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	var cert tls.Certificate
	switch {
	case e.cert != "" && e.key != "":
		leaf, err := certs.LoadLeaf(e.cert, e.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		cert = leaf.TLSCertificate()
	case e.cert != "" || e.key != "":
		return nil, errors.New("--cert and --key go together")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = certs.ClientTLS(caCert, cert, "")
	return &http.Client{Transport: tr}, nil
}
