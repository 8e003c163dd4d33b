package main

import (
	"context"
	"fmt"
)

func runCluster(ctx context.Context, e *env, args []string) int {
	fmt.Fprintln(e.stderr, "custodyctl: cluster is not available in this build")
	return 2
}
