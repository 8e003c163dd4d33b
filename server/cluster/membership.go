package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
)

// JoinRequest asks the cluster to add a node as a voter.
type JoinRequest struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	HTTP string `json:"http"`
}

// join asks the cluster at cfg.Join to add this node, retrying until it
// is a member or ctx ends.
func (n *Node) join(ctx context.Context) error {
	if n.member() {
		return nil
	}
	body, _ := json.Marshal(JoinRequest{ID: n.cfg.ID, Raft: n.cfg.RaftAddr, HTTP: n.cfg.HTTPAddr})
	url := strings.TrimSuffix(n.cfg.Join, "/") + PathJoin
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%w: join url %q: %v", ErrConfig, url, err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := n.http.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				n.log.Info("joined the cluster", "via", n.cfg.Join)
				return nil
			}
			if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusConflict {
				return fmt.Errorf("%w: %s", ErrMembership, bytes.TrimSpace(b))
			}
			err = fmt.Errorf("join answered %d: %s", resp.StatusCode, bytes.TrimSpace(b))
		}
		if attempt%10 == 0 {
			n.log.Warn("join failed, retrying", "via", n.cfg.Join, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (n *Node) member() bool {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(n.cfg.ID) {
			return true
		}
	}
	return false
}

// Join adds a node as a voter and registers its addresses. It must run
// on the leader (the API forwards it there).
func (n *Node) Join(ctx context.Context, j JoinRequest) error {
	if j.ID == "" || j.Raft == "" {
		return fmt.Errorf("%w: a join needs an id and a raft address", ErrMembership)
	}
	if !n.IsLeader() {
		return retry(ErrNotLeader, 200*time.Millisecond)
	}
	if err := n.checkJoiner(ctx, j); err != nil {
		return err
	}
	if err := n.raft.AddVoter(raft.ServerID(j.ID), raft.ServerAddress(j.Raft), 0, 30*time.Second).Error(); err != nil {
		return raftErr(err)
	}
	data, err := command.EncodeJSON(command.TypeNode, state.Node(j))
	if err != nil {
		return err
	}
	_, err = n.proposeLocal(data)
	return err
}

// Remove takes a node out of the cluster and forgets its addresses.
func (n *Node) Remove(ctx context.Context, id string) error {
	if !n.IsLeader() {
		return retry(ErrNotLeader, 200*time.Millisecond)
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, 30*time.Second).Error(); err != nil {
		return raftErr(err)
	}
	data, err := command.EncodeJSON(command.TypeRemoveNode, command.RemoveNode{ID: id})
	if err != nil {
		return err
	}
	_, err = n.proposeLocal(data)
	return err
}

// TransferLeadership hands leadership to id, or to the most up-to-date
// voter when id is empty.
func (n *Node) TransferLeadership(ctx context.Context, id string) error {
	if !n.IsLeader() {
		return retry(ErrNotLeader, 200*time.Millisecond)
	}
	var f raft.Future
	if id == "" {
		f = n.raft.LeadershipTransfer()
	} else {
		addr := ""
		for _, s := range n.servers() {
			if string(s.ID) == id {
				addr = string(s.Address)
			}
		}
		if addr == "" {
			return fmt.Errorf("%w: %s is not a member", ErrMembership, id)
		}
		f = n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(addr))
	}
	return raftErr(f.Error())
}

func (n *Node) servers() []raft.Server {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	return f.Configuration().Servers
}

// Self is what one node says about itself.
type Self struct {
	ID      string `json:"id"`
	Raft    string `json:"raft"`
	HTTP    string `json:"http"`
	State   string `json:"state"`
	Leader  string `json:"leader"`
	Term    uint64 `json:"term"`
	Applied uint64 `json:"applied"` // last index the state reflects
	Commit  uint64 `json:"commit"`
	LastLog uint64 `json:"lastLog"`
	Hash    string `json:"hash,omitempty"`
	Pending int    `json:"queued"` // events waiting in the coalescer
	Entries uint64 `json:"entries"`
	// ReadTerm is the latest term in which this node, leading, committed
	// an entry of its own so as to serve linearizable reads.
	ReadTerm uint64 `json:"readTerm"`
}

// SelfStatus describes this node; withHash adds the state hash (a full
// scan: slow on a big site).
func (n *Node) SelfStatus(withHash bool) (Self, error) {
	_, leader := n.raft.LeaderWithID()
	s := Self{ID: n.cfg.ID, Raft: n.cfg.RaftAddr, HTTP: n.cfg.HTTPAddr, State: strings.ToLower(n.raft.State().String()),
		Leader: string(leader), Term: n.raft.CurrentTerm(), Applied: n.fsm.Applied(), Commit: n.raft.CommitIndex(),
		LastLog: n.raft.LastIndex(), Pending: n.coal.Depth(), Entries: n.coal.Entries(), ReadTerm: n.readTerm.Load()}
	if withHash {
		err := n.st.View(func(r *state.Reader) error {
			var err error
			if s.Applied, err = r.Applied(); err != nil {
				return err
			}
			s.Hash, err = r.Hash()
			return err
		})
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// Member is one node as the cluster status reports it.
type Member struct {
	ID       string `json:"id"`
	Address  string `json:"address"` // raft
	HTTP     string `json:"http,omitempty"`
	Suffrage string `json:"suffrage"`
	State    string `json:"state"` // leader, follower, candidate, unreachable
	Applied  uint64 `json:"applied"`
	Hash     string `json:"hash,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Status is the cluster as one node sees it.
type Status struct {
	Leader string   `json:"leader"`
	Term   uint64   `json:"term"`
	Nodes  []Member `json:"nodes"`
}

// ClusterStatus asks every member for its state (over HTTP, a second at
// most each). withHash includes the state hashes.
func (n *Node) ClusterStatus(ctx context.Context, withHash bool) (Status, error) {
	_, leader := n.raft.LeaderWithID()
	st := Status{Leader: string(leader), Term: n.raft.CurrentTerm()}
	regs := map[string]state.Node{}
	_ = n.st.View(func(r *state.Reader) error {
		ns, err := r.Nodes()
		for _, x := range ns {
			regs[x.ID] = x
		}
		return err
	})
	for _, s := range n.servers() {
		m := Member{ID: string(s.ID), Address: string(s.Address), Suffrage: strings.ToLower(s.Suffrage.String()), HTTP: regs[string(s.ID)].HTTP}
		var self Self
		var err error
		if string(s.ID) == n.cfg.ID {
			self, err = n.SelfStatus(withHash)
		} else if m.HTTP == "" {
			err = fmt.Errorf("address not registered")
		} else {
			err = n.fetchSelf(ctx, m.HTTP, withHash, &self)
		}
		if err != nil {
			m.State, m.Error = "unreachable", err.Error()
		} else {
			m.State, m.Applied, m.Hash = self.State, self.Applied, self.Hash
		}
		st.Nodes = append(st.Nodes, m)
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].ID < st.Nodes[j].ID })
	return st, nil
}

func (n *Node) fetchSelf(ctx context.Context, addr string, withHash bool, out *Self) error {
	timeout := 2 * time.Second
	if withHash {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + addr + PathSelf
	if withHash {
		url += "?hash=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
