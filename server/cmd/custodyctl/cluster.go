package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/custodyhq/custody/server/cluster"
)

// setUser names the user custodyctl acts as: CUSTODY_USER, else
// "admin". With a client certificate (--cert) and no CUSTODY_USER it
// names nobody: over HTTPS the certificate names the user, and the site
// refuses a header that contradicts it.
func (e *env) setUser(req *http.Request) {
	u := os.Getenv("CUSTODY_USER")
	if u == "" && e.cert != "" {
		return
	}
	if u == "" {
		u = "admin"
	}
	req.Header.Set("X-Custody-User", u)
}

// srvCall sends a JSON request to the site and returns the answer body.
// While the site has no leader (an election, a leadership transfer) a
// node answers 503 "no_leader" before anything is proposed, so the call
// is sent again after the answer's Retry-After, until the timeout.
func srvCall(ctx context.Context, e *env, method, path string, in any, timeout time.Duration) ([]byte, error) {
	var payload []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		payload = b
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		b, retry, err := srvCallOnce(ctx, e, method, path, payload)
		if retry <= 0 {
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(retry):
		}
	}
}

// srvCallOnce sends one request. retry > 0 says the site refused it
// before proposing anything because it has no leader, and when to ask
// again.
func srvCallOnce(ctx context.Context, e *env, method, path string, payload []byte) (_ []byte, retry time.Duration, _ error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(e.server, "/")+path, body)
	if err != nil {
		return nil, 0, err
	}
	e.setUser(req)
	req.Header.Set("Content-Type", "application/json")
	// A site that runs with --cluster-secret wants it on the node routes
	// (cluster join).
	if f := os.Getenv("CUSTODY_CLUSTER_SECRET_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		req.Header.Set(cluster.HeaderSecret, strings.TrimSpace(string(b)))
	}
	hc, err := e.httpClient()
	if err != nil {
		return nil, 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
		if resp.StatusCode == http.StatusServiceUnavailable && noLeader(b) {
			return nil, retryAfter(resp.Header.Get("Retry-After")), err
		}
		return nil, 0, err
	}
	return b, 0, nil
}

// noLeader reports whether an error body is the API's "no_leader" code.
func noLeader(body []byte) bool {
	var e struct {
		Code string `json:"code"`
	}
	return json.Unmarshal(body, &e) == nil && e.Code == "no_leader"
}

// retryAfter reads a Retry-After in seconds, between 100 ms and 2 s.
func retryAfter(h string) time.Duration {
	d := 250 * time.Millisecond
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	}
	return min(max(d, 100*time.Millisecond), 2*time.Second)
}

func printJSON(w io.Writer, b []byte) {
	var v any
	if json.Unmarshal(b, &v) != nil {
		w.Write(b)
		return
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(w, string(out))
}

const clusterUsage = `usage: custodyctl [--server URL] cluster COMMAND
  status [--hash]                 leader, and each node's id, address, state and applied index
  join ID RAFT_ADDR HTTP_ADDR     add a node as a voter (it must be running)
  remove ID                       take a node out of the cluster
  transfer-leadership [ID]        hand leadership to ID (or the most up-to-date voter)
  feed [LIMIT_REFS]               how much change feed devices can catch up from; with a number,
                                  keep the newest records holding that many references (admin)
`

func runCluster(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, clusterUsage)
		return 2
	}
	var (
		b   []byte
		err error
	)
	switch args[0] {
	case "status":
		fs := flag.NewFlagSet("cluster status", flag.ContinueOnError)
		fs.SetOutput(e.stderr)
		hash := fs.Bool("hash", false, "include each node's state hash (a full scan)")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		path := "/api/v1/cluster/status"
		if *hash {
			path += "?hash=1"
		}
		b, err = srvCall(ctx, e, http.MethodGet, path, nil, 2*time.Minute)
	case "join":
		if len(args) != 4 {
			fmt.Fprint(e.stderr, clusterUsage)
			return 2
		}
		b, err = srvCall(ctx, e, http.MethodPost, "/api/v1/cluster/join", map[string]string{"id": args[1], "raft": args[2], "http": args[3]}, time.Minute)
	case "remove":
		if len(args) != 2 {
			fmt.Fprint(e.stderr, clusterUsage)
			return 2
		}
		b, err = srvCall(ctx, e, http.MethodPost, "/api/v1/cluster/remove", map[string]string{"id": args[1]}, time.Minute)
	case "transfer-leadership":
		id := ""
		if len(args) > 1 {
			id = args[1]
		}
		b, err = srvCall(ctx, e, http.MethodPost, "/api/v1/cluster/transfer-leadership", map[string]string{"id": id}, time.Minute)
	case "feed":
		switch len(args) {
		case 1:
			b, err = srvCall(ctx, e, http.MethodGet, "/api/v1/cluster/feed", nil, time.Minute)
		case 2:
			n, perr := strconv.ParseUint(args[1], 10, 64)
			if perr != nil {
				fmt.Fprintf(e.stderr, "custodyctl: feed limit %q is not a number of references\n", args[1])
				return 2
			}
			b, err = srvCall(ctx, e, http.MethodPut, "/api/v1/cluster/feed", map[string]uint64{"limit_refs": n}, time.Minute)
		default:
			fmt.Fprint(e.stderr, clusterUsage)
			return 2
		}
	default:
		fmt.Fprintf(e.stderr, "custodyctl: unknown cluster command %q\n", args[0])
		fmt.Fprint(e.stderr, clusterUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "custodyctl:", err)
		return 1
	}
	printJSON(e.stdout, b)
	return 0
}
