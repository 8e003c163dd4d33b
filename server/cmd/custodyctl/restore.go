package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/custodyhq/custody/server/cluster"
)

// runRestore prepares the first node of a new cluster from a backup. The
// node is then started normally on the same directory and addresses;
// further nodes join it and receive the state as a raft snapshot.
func runRestore(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", "", "empty data directory for the new cluster's first node (required)")
	id := fs.String("id", "n1", "the node's id")
	raftAddr := fs.String("raft", "127.0.0.1:7001", "the node's raft address")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: custodyctl restore FILE --data DIR [--id n1] [--raft 127.0.0.1:7001]")
		fs.PrintDefaults()
	}
	// Accept the file before or after the flags.
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" || *data == "" {
		fs.Usage()
		return 2
	}
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(e.stderr, "custodyctl: restore:", err)
		return 1
	}
	defer f.Close()
	idx, err := cluster.RestoreBackup(*data, *id, *raftAddr, f)
	if err != nil {
		fmt.Fprintln(e.stderr, "custodyctl: restore:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "restored state at log index %d into %s\nstart it with: custody-server --id %s --data %s --raft %s --http HOST:PORT\n",
		idx, *data, *id, *data, *raftAddr)
	return 0
}
