package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// site talks to the cluster's HTTP API, trying the servers in turn: any
// of them takes writes (a follower forwards them) and answers reads.
type site struct {
	servers []string // base URLs, http://host:port
	user    string
	http    *http.Client
	next    atomic.Uint32
}

// httpError is an API answer other than 2xx.
type httpError struct {
	Status int
	Body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

func newSite(servers []string, user string) *site {
	return &site{servers: servers, user: user, http: &http.Client{Timeout: 60 * time.Second}}
}

// do sends one request, moving to the next server on a transport error,
// a 5xx or a 503/429 (no leader, busy), for up to a minute.
func (s *site) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(time.Minute)
	var last error
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		base := s.servers[int(s.next.Load())%len(s.servers)]
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-Custody-User", s.user)
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := s.http.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
				err = rerr
			case resp.StatusCode >= 200 && resp.StatusCode < 300:
				if out == nil {
					return nil
				}
				return json.Unmarshal(b, out)
			case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
				err = &httpError{resp.StatusCode, string(b)}
			default:
				return &httpError{resp.StatusCode, string(b)}
			}
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.next.Add(1)
		time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second))
	}
	return fmt.Errorf("%s %s: %w", method, path, last)
}

func (s *site) get(ctx context.Context, path string, out any) error {
	return s.do(ctx, http.MethodGet, path, nil, out)
}

func isStatus(err error, code int) bool {
	var he *httpError
	return errors.As(err, &he) && he.Status == code
}

// list is the API's page shape.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

// all reads every page of a list at path (which has no query yet).
func all[T any](ctx context.Context, s *site, path string) ([]T, error) {
	var out []T
	after := ""
	for {
		q := "?consistency=leader&limit=5000"
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		var page list[T]
		if err := s.get(ctx, path+q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" || len(page.Items) == 0 {
			return out, nil
		}
		after = page.Next
	}
}
