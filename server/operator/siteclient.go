package operator

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// siteClient reads one site through its HTTP API as the operator's
// user there.
type siteClient struct {
	site Site
	http *http.Client
	base string
}

func newSiteClient(s Site) (*siteClient, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute, ResponseHeaderTimeout: time.Minute}
	if strings.HasPrefix(s.URL, "https:") {
		ca, err := os.ReadFile(s.CA)
		if err != nil {
			return nil, fmt.Errorf("%w: site %s: ca: %v", ErrConfig, s.ID, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("%w: site %s: ca: no certificate in %s", ErrConfig, s.ID, s.CA)
		}
		cert, err := tls.LoadX509KeyPair(s.Cert, s.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: site %s: certificate: %v", ErrConfig, s.ID, err)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	}
	return &siteClient{site: s, http: &http.Client{Transport: tr}, base: strings.TrimRight(s.URL, "/")}, nil
}

// maxRaw bounds an answer read whole (an EPCIS document).
const maxRaw = 64 << 20

// apiError is an answer of the site other than 2xx.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg) }

// do sends a request and decodes a JSON answer into out (when not nil;
// a *[]byte gets the answer as it is).
func (c *siteClient) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Custody-User", c.site.User)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &apiError{Status: resp.StatusCode, Msg: e.Error}
	}
	if raw, ok := out.(*[]byte); ok {
		*raw, err = io.ReadAll(io.LimitReader(resp.Body, maxRaw))
		return err
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrAnswer, path, err)
	}
	return nil
}

func (c *siteClient) get(ctx context.Context, path string, q url.Values, out any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// notFound reports a 404 from the site.
func notFound(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// forbidden reports a 403 from the site (the operator's user lacks the
// role there).
func forbidden(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusForbidden
}

// metric reads one gauge from the node's /metrics (the sum over its
// series); ok is false when it is not there.
func (c *siteClient) metric(ctx context.Context, name string) (float64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// A node answers 500 when one of its collectors failed this
		// time (say, a file gone while it was measured): unknown now.
		return 0, false, nil
	}
	var sum float64
	var found bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum, found = sum+v, true
		}
	}
	return sum, found, sc.Err()
}
