// Package procs starts and stops real Custody processes for end-to-end
// tests: it builds a command once per test binary, runs it with its
// output in a log file, and talks to custody-server nodes over HTTP.
package procs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Build compiles a main package (an import path such as
// "github.com/custodyhq/custody/server/cmd/custody-server") into dir and
// returns the binary's path.
func Build(t testing.TB, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Proc is a running process.
type Proc struct {
	Name string
	Log  string // path of its combined output
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs bin with args, output to dir/name.log. The process is
// killed when the test ends if it is still running.
func Start(t testing.TB, dir, name, bin string, args ...string) *Proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() { p.Kill() })
	return p
}

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the exit.
func (p *Proc) Kill() {
	if p.Running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// Stop sends SIGTERM and waits up to timeout before killing.
func (p *Proc) Stop(timeout time.Duration) error {
	if !p.Running() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s did not stop within %s", p.Name, timeout)
	}
}

// Tail returns the last n bytes of the process's log, for failure messages.
func (p *Proc) Tail(n int) string {
	b, _ := os.ReadFile(p.Log)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Server is one custody-server node.
type Server struct {
	ID, Data, Raft, HTTP string
	Join                 string   // API URL it joined through ("" for the first node)
	Extra                []string // further flags, given to every start
	Proc                 *Proc
	bin, dir             string
}

// URL is the node's API base URL.
func (s *Server) URL() string { return "http://" + s.HTTP }

// Args are the node's command-line flags, as operators write them.
func (s *Server) Args() []string {
	args := []string{"--id", s.ID, "--data", s.Data, "--raft", s.Raft, "--http", s.HTTP}
	args = append(args, s.Extra...)
	if s.Join == "" {
		return append(args, "--bootstrap")
	}
	return append(args, "--join", s.Join)
}

// Start (re)starts the node's process on its data directory.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.Proc = Start(t, s.dir, s.ID, s.bin, s.Args()...)
}

// StartCluster starts n nodes: the first bootstraps, the others join it.
// It returns once every node is a voter with its address registered and
// the seed admin user is replicated everywhere. extra flags go to every
// node.
func StartCluster(t testing.TB, bin string, n int, extra ...string) []*Server {
	t.Helper()
	return StartClusterWith(t, bin, n, func(int) []string { return extra })
}

// StartClusterWith is StartCluster with flags of their own for each node
// (flags(i) for the node at index i).
func StartClusterWith(t testing.TB, bin string, n int, flags func(i int) []string) []*Server {
	t.Helper()
	dir := t.TempDir()
	var out []*Server
	for i := range n {
		s := &Server{ID: fmt.Sprintf("n%d", i+1), Raft: FreeAddr(t), HTTP: FreeAddr(t), Extra: flags(i), bin: bin, dir: dir}
		s.Data = filepath.Join(dir, s.ID)
		if i > 0 {
			s.Join = out[0].URL()
		}
		s.Start(t)
		out = append(out, s)
		if i == 0 {
			WaitFor(t, 60*time.Second, "first node ready", func() bool { return Ready(out[0]) })
		}
	}
	WaitFor(t, 90*time.Second, "cluster formed", func() bool {
		var st Status
		if err := Client(out[0], "admin").Get("/api/v1/cluster/status", &st); err != nil || len(st.Nodes) != n {
			return false
		}
		for _, m := range st.Nodes {
			if m.State == "unreachable" || m.HTTP == "" {
				return false
			}
		}
		for _, s := range out {
			if err := Client(s, "admin").Get("/api/v1/me", nil); err != nil {
				return false
			}
		}
		return true
	})
	return out
}

// AddNode starts a new node, id, with an empty data directory beside
// via's, joining the cluster through via; extra flags as for
// StartCluster.
func AddNode(t testing.TB, via *Server, id string, extra ...string) *Server {
	t.Helper()
	s := &Server{ID: id, Raft: FreeAddr(t), HTTP: FreeAddr(t), Join: via.URL(), Extra: extra, bin: via.bin, dir: via.dir}
	s.Data = filepath.Join(s.dir, id)
	s.Start(t)
	return s
}

// Ready reports whether the node answers /readyz with 200.
func Ready(s *Server) bool {
	resp, err := http.Get(s.URL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Status is the cluster status as the API reports it.
type Status struct {
	Leader string `json:"leader"`
	Nodes  []struct {
		ID      string `json:"id"`
		HTTP    string `json:"http"`
		State   string `json:"state"`
		Applied uint64 `json:"applied"`
		Hash    string `json:"hash"`
	} `json:"nodes"`
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// API is a small JSON client acting as one user.
type API struct {
	Base string
	User string
	HTTP *http.Client
}

// Client returns an API client for node s acting as user.
func Client(s *Server, user string) *API {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	return &API{Base: s.URL(), User: user, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
}

// Do sends a JSON request and decodes a JSON answer into out (when not nil).
func (a *API) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Custody-User", a.User)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Get is Do with GET.
func (a *API) Get(path string, out any) error {
	return a.Do(context.Background(), http.MethodGet, path, nil, out)
}
