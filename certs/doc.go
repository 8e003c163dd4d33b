// Package certs is the site PKI of Custody: the site certificate authority,
// node, device and console (user) certificates, device enrollment with
// one-time tokens, revocation, and the tls.Config builders the server and the
// handheld use.
//
// Every identity in a site is a certificate issued directly by the site CA
// (no intermediates). A leaf names its kind with exactly one URI SAN:
//
//	custody:node:<node id>      server + client auth (raft TLS and the API)
//	custody:device:<device id>  client auth (handheld websocket, mTLS)
//	custody:user:<user name>    client auth (console), role in the subject OU
//
// A device id is derived from the device's public key (see DeviceID), so a
// device proves its id by holding the key; the certificate only says the site
// admitted that key. Trust decisions go through a Verifier, which checks the
// chain to the site CA, the validity period at its own clock, the kind and
// the revocation list, and answers with sentinel errors.
//
// See DESIGN.md in this directory for the reasoning.
package certs
