package cluster

import (
	"context"
	"fmt"
	"net"
	"time"
)

// joinProbeTimeout bounds each check of a joining node.
const joinProbeTimeout = 2 * time.Second

// checkJoiner makes sure the node a join names is there before it
// becomes a voter. A voter that does not exist never votes: added to a
// one-node site it takes the quorum to two, and the site has lost its
// leader for good. With an HTTP address the node's own status must name
// the same id and raft address (which also shows the node belongs to
// this site: the request carries the secret or the node certificate);
// without one, its raft address must accept a connection. A node not
// answering yet (still starting) is ErrJoinUnanswered with a retry
// hint; one answering as another node is ErrMembership.
func (n *Node) checkJoiner(ctx context.Context, j JoinRequest) error {
	ctx, cancel := context.WithTimeout(ctx, joinProbeTimeout)
	defer cancel()
	if j.HTTP == "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", j.Raft)
		if err != nil {
			return retry(fmt.Errorf("%w: node %s: nothing answers on raft address %s: %v", ErrJoinUnanswered, j.ID, j.Raft, err), time.Second)
		}
		return conn.Close()
	}
	var self Self
	if err := n.fetchSelf(ctx, j.HTTP, false, &self); err != nil {
		return retry(fmt.Errorf("%w: node %s: its API at %s does not answer: %v", ErrJoinUnanswered, j.ID, j.HTTP, err), time.Second)
	}
	if self.ID != j.ID || self.Raft != j.Raft {
		return fmt.Errorf("%w: the node at %s is %q with raft address %s, not %q with %s", ErrMembership, j.HTTP, self.ID, self.Raft, j.ID, j.Raft)
	}
	return nil
}
