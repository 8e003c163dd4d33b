package operator

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/custodyhq/custody/server/state"
)

// Site is one Custody site the operator reads.
type Site struct {
	// ID names the site in the operator (short, stable).
	ID string `json:"id"`
	// Name is how people call it ("Berlin DC").
	Name string `json:"name,omitempty"`
	// URL is the base URL of the site's API (any node).
	URL string `json:"url"`
	// Console is the base URL of the site's console, for links (default URL).
	Console string `json:"console,omitempty"`
	// User is the operator's user at the site. Over HTTPS it is the
	// user the certificate names; over plain HTTP it is sent in the
	// user header.
	User string `json:"user"`
	// CA, Cert and Key are PEM files: the site CA, and the operator's
	// user certificate issued by that site with its key (HTTPS only).
	CA   string `json:"ca,omitempty"`
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	// Clients are the clients the operator may see at this site (the
	// site's grants of User decide too).
	Clients []string `json:"clients"`
}

// Role is what an operator user may do.
type Role string

// Roles.
const (
	// RoleViewer reads every page.
	RoleViewer Role = "viewer"
	// RoleLead also places recall holds at the sites.
	RoleLead Role = "lead"
)

// User is a person signed in to the operator console.
type User struct {
	ID      string                 `json:"id"`
	Role    Role                   `json:"role"`
	Clients []string               `json:"clients"` // "*" for every client
	Pass    state.PasswordVerifier `json:"password"`
}

// Sees reports whether the user may see client c.
func (u *User) Sees(c string) bool {
	for _, g := range u.Clients {
		if g == c || g == "*" {
			return true
		}
	}
	return false
}

// File is the operator's configuration file (JSON).
type File struct {
	Sites []Site `json:"sites"`
	Users []User `json:"users"`
	// DigestKey is the key (hex, at least 32 bytes) the sites' serial
	// digests are computed under; empty: no duplicate matching.
	DigestKey string `json:"digest_key,omitempty"`
	// Poll and Timeout: how often each site is read and how long one
	// read may take ("10s", "3s").
	Poll    string `json:"poll,omitempty"`
	Timeout string `json:"timeout,omitempty"`
	// DigestEvery is how often the digests are matched at most ("20s");
	// a site's list is read again only when its state moved.
	DigestEvery string `json:"digest_every,omitempty"`
}

// ReadFile reads and checks a configuration file.
func ReadFile(r io.Reader) (File, error) {
	var f File
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return f, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return f, f.Check()
}

// Check reports the first thing wrong with the configuration.
func (f *File) Check() error {
	if len(f.Sites) == 0 {
		return fmt.Errorf("%w: no sites", ErrConfig)
	}
	seen := map[string]bool{}
	for i, s := range f.Sites {
		switch {
		case s.ID == "" || strings.ContainsAny(s.ID, "/ ?#"):
			return fmt.Errorf("%w: sites[%d]: id %q: give a short id without / ? # or spaces", ErrConfig, i, s.ID)
		case seen[s.ID]:
			return fmt.Errorf("%w: sites[%d]: id %q twice", ErrConfig, i, s.ID)
		case s.User == "":
			return fmt.Errorf("%w: site %s: no user", ErrConfig, s.ID)
		case len(s.Clients) == 0:
			return fmt.Errorf("%w: site %s: no clients", ErrConfig, s.ID)
		}
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: site %s: url %q: want http(s)://host:port", ErrConfig, s.ID, s.URL)
		}
		if u.Scheme == "https" && (s.CA == "" || s.Cert == "" || s.Key == "") {
			return fmt.Errorf("%w: site %s: https needs ca, cert and key", ErrConfig, s.ID)
		}
		seen[s.ID] = true
	}
	users := map[string]bool{}
	for i, u := range f.Users {
		switch {
		case u.ID == "":
			return fmt.Errorf("%w: users[%d]: no id", ErrConfig, i)
		case users[u.ID]:
			return fmt.Errorf("%w: user %q twice", ErrConfig, u.ID)
		case u.Role != RoleViewer && u.Role != RoleLead:
			return fmt.Errorf("%w: user %s: role %q: want viewer or lead", ErrConfig, u.ID, u.Role)
		case len(u.Pass.Hash) == 0:
			return fmt.Errorf("%w: user %s: no password (custody-operator password reads one and prints the verifier)", ErrConfig, u.ID)
		}
		users[u.ID] = true
	}
	if _, _, err := f.Durations(); err != nil {
		return err
	}
	if _, err := f.DigestInterval(); err != nil {
		return err
	}
	if _, err := f.Key(); err != nil {
		return err
	}
	return nil
}

// Durations are the poll interval and the read timeout (defaults
// DefaultPoll, DefaultTimeout).
func (f *File) Durations() (poll, timeout time.Duration, err error) {
	poll, timeout = DefaultPoll, DefaultTimeout
	if f.Poll != "" {
		if poll, err = time.ParseDuration(f.Poll); err != nil || poll < 100*time.Millisecond {
			return 0, 0, fmt.Errorf("%w: poll %q: want a duration of at least 100ms", ErrConfig, f.Poll)
		}
	}
	if f.Timeout != "" {
		if timeout, err = time.ParseDuration(f.Timeout); err != nil || timeout < 100*time.Millisecond {
			return 0, 0, fmt.Errorf("%w: timeout %q: want a duration of at least 100ms", ErrConfig, f.Timeout)
		}
	}
	return poll, timeout, nil
}

// Key is the digest key; nil when none is configured.
func (f *File) Key() ([]byte, error) {
	if f.DigestKey == "" {
		return nil, nil
	}
	k, err := hex.DecodeString(f.DigestKey)
	if err != nil || len(k) < 32 {
		return nil, fmt.Errorf("%w: digest_key: want at least 32 bytes in hex", ErrConfig)
	}
	return k, nil
}

// DigestInterval is how often digests are matched at most (default
// DefaultDigestEvery).
func (f *File) DigestInterval() (time.Duration, error) {
	if f.DigestEvery == "" {
		return DefaultDigestEvery, nil
	}
	d, err := time.ParseDuration(f.DigestEvery)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%w: digest_every %q: want a duration", ErrConfig, f.DigestEvery)
	}
	return d, nil
}
