package certs

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"unicode"
	"unicode/utf8"
)

const maxNameLen = 64

// checkSiteName accepts printable text of 1 to 64 characters without
// control characters; a site name is for people and appears in subjects.
func checkSiteName(s string) error {
	if s == "" || len(s) > maxNameLen || !utf8.ValidString(s) {
		return fmt.Errorf("site name %q: %w", s, ErrBadName)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("site name %q: %w", s, ErrBadName)
		}
	}
	return nil
}

// checkIdent accepts identifiers used in URIs and raft: 1 to 64 characters of
// letters, digits and . _ - @ (what a node id, cluster id, user name or role
// may contain). The first character must be a letter or digit.
func checkIdent(what, s string) error {
	if s == "" || len(s) > maxNameLen {
		return fmt.Errorf("%s %q: %w", what, s, ErrBadName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if alnum || (i > 0 && (c == '.' || c == '_' || c == '-' || c == '@')) {
			continue
		}
		return fmt.Errorf("%s %q: %w", what, s, ErrBadName)
	}
	return nil
}

// NewClusterID returns a random cluster id (32 lower-case hex digits).
func NewClusterID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
