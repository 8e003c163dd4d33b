package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside a data dir's certs directory.
const (
	CertsDirName     = "certs"
	CACertFileName   = "ca.pem"
	CAKeyFileName    = "ca-key.pem"
	NodeCertFileName = "node.pem"
	NodeKeyFileName  = "node-key.pem"
	CRLFileName      = "crl.pem"
)

// Layout locates the PKI files of a node's data dir:
//
//	<data dir>/certs/ca.pem        site CA certificate
//	<data dir>/certs/ca-key.pem    site CA key (0600; only on nodes that issue)
//	<data dir>/certs/node.pem      this node's certificate
//	<data dir>/certs/node-key.pem  this node's key (0600)
//	<data dir>/certs/crl.pem       the latest revocation list, when published
type Layout struct {
	Dir string // the certs directory itself
}

// NewLayout returns the layout of dataDir.
func NewLayout(dataDir string) Layout {
	return Layout{Dir: filepath.Join(dataDir, CertsDirName)}
}

// CACertFile returns the path of the CA certificate.
func (l Layout) CACertFile() string { return filepath.Join(l.Dir, CACertFileName) }

// CAKeyFile returns the path of the CA key.
func (l Layout) CAKeyFile() string { return filepath.Join(l.Dir, CAKeyFileName) }

// NodeCertFile returns the path of the node certificate.
func (l Layout) NodeCertFile() string { return filepath.Join(l.Dir, NodeCertFileName) }

// NodeKeyFile returns the path of the node key.
func (l Layout) NodeKeyFile() string { return filepath.Join(l.Dir, NodeKeyFileName) }

// CRLFile returns the path of the revocation list.
func (l Layout) CRLFile() string { return filepath.Join(l.Dir, CRLFileName) }

// LoadCA loads the CA certificate and key.
func (l Layout) LoadCA(now func() time.Time) (*CA, error) {
	return LoadCA(l.CACertFile(), l.CAKeyFile(), now)
}

// LoadCACert loads the CA certificate alone.
func (l Layout) LoadCACert() (*x509.Certificate, error) { return LoadCACert(l.CACertFile()) }

// LoadNode loads the node certificate and key.
func (l Layout) LoadNode() (*Leaf, error) { return LoadLeaf(l.NodeCertFile(), l.NodeKeyFile()) }

// SaveCA writes the CA certificate and key.
func (l Layout) SaveCA(ca *CA) error { return ca.Save(l.CACertFile(), l.CAKeyFile()) }

// SaveNode writes the node certificate and key.
func (l Layout) SaveNode(node *Leaf) error { return node.Save(l.NodeCertFile(), l.NodeKeyFile()) }

// Site is what Bootstrap found or made.
type Site struct {
	Layout  Layout
	CA      *CA
	Node    *Leaf
	Created []string // base names of the files written by this call
}

// Bootstrap makes dataDir a complete single-node site; see Layout.Bootstrap.
func Bootstrap(dataDir, siteName, nodeID string, hosts []string) (*Site, error) {
	return NewLayout(dataDir).Bootstrap(siteName, nodeID, hosts, nil)
}

// Bootstrap creates whatever is missing of a site CA and a node certificate
// and loads the rest; a second call with the same arguments changes nothing.
//
// Existing files are never overwritten with a new identity: a CA certificate
// without its key (or the reverse) is ErrIncompleteLayout, and a CA of
// another site name or a node certificate of another node id or CA is
// ErrLayoutMismatch. The node certificate is reissued (same CA, new key) only
// when it is outside its validity period or lacks one of hosts.
func (l Layout) Bootstrap(siteName, nodeID string, hosts []string, now func() time.Time) (*Site, error) {
	now = clockOrDefault(now)
	if err := checkSiteName(siteName); err != nil {
		return nil, err
	}
	if err := checkIdent("node id", nodeID); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	site := &Site{Layout: l}

	haveCA, err := pairState(l.CACertFile(), l.CAKeyFile())
	if err != nil {
		return nil, err
	}
	if haveCA {
		if site.CA, err = l.LoadCA(now); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		if got := site.CA.SiteName(); got != siteName {
			return nil, fmt.Errorf("bootstrap: CA is for site %q, not %q: %w", got, siteName, ErrLayoutMismatch)
		}
	} else {
		if site.CA, err = NewCA(CAConfig{SiteName: siteName, Now: now}); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		if err := l.SaveCA(site.CA); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		site.Created = append(site.Created, CAKeyFileName, CACertFileName)
	}

	haveNode, err := pairState(l.NodeCertFile(), l.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	if haveNode {
		if site.Node, err = l.LoadNode(); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		reissue, err := nodeNeedsReissue(site.CA, site.Node, nodeID, hosts, now)
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		if !reissue {
			return site, nil
		}
	}
	if site.Node, err = site.CA.IssueNode(nodeID, hosts); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := l.SaveNode(site.Node); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	site.Created = append(site.Created, NodeKeyFileName, NodeCertFileName)
	return site, nil
}

// pairState reports whether both files exist; exactly one existing is
// ErrIncompleteLayout.
func pairState(certFile, keyFile string) (bool, error) {
	c, err := exists(certFile)
	if err != nil {
		return false, err
	}
	k, err := exists(keyFile)
	if err != nil {
		return false, err
	}
	if c != k {
		return false, fmt.Errorf("bootstrap: %s exists=%t, %s exists=%t: %w",
			filepath.Base(certFile), c, filepath.Base(keyFile), k, ErrIncompleteLayout)
	}
	return c, nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("bootstrap: %w", err)
	}
}

func nodeNeedsReissue(ca *CA, node *Leaf, nodeID string, hosts []string, now func() time.Time) (bool, error) {
	_, err := NewVerifier(ca.Cert(), nil, now).Verify(node.Cert, KindNode)
	switch {
	case errors.Is(err, ErrCertExpired), errors.Is(err, ErrCertNotYetValid):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("existing node certificate: %w: %w", ErrLayoutMismatch, err)
	}
	if got, _ := NodeIDFromCert(node.Cert); got != nodeID {
		return false, fmt.Errorf("existing node certificate is for node %q, not %q: %w", got, nodeID, ErrLayoutMismatch)
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(node.Cert.IPAddresses, ip.Equal) {
				return true, nil
			}
			continue
		}
		if !slices.ContainsFunc(node.Cert.DNSNames, func(d string) bool { return strings.EqualFold(d, h) }) {
			return true, nil
		}
	}
	return false, nil
}
