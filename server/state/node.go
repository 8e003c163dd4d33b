package state

import "encoding/json"

// Node is a cluster member as the cluster knows it: its raft address and
// the HTTP address followers forward writes to.
type Node struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	HTTP string `json:"http"`
}

// Node returns one registered node.
func (r *Reader) Node(id string) (Node, error) { return getMaster[Node](r, mNode, id) }

// Nodes lists the registered nodes.
func (r *Reader) Nodes() ([]Node, error) { return listMaster[Node](r, mNode, nil) }

// PutNode registers a node.
func (t *Tx) PutNode(n Node) error { return t.putMaster(mNode, n.ID, n) }

// DeleteNode forgets a node.
func (t *Tx) DeleteNode(id string) error { return t.del(key(tMaster, string(mNode)+id)) }

func jsonDecode(k, v []byte, out any) error {
	if err := json.Unmarshal(v, out); err != nil {
		return corrupt(k, err)
	}
	return nil
}
