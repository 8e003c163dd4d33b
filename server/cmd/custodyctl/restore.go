package main

import (
	"context"
	"fmt"
)

func runRestore(ctx context.Context, e *env, args []string) int {
	fmt.Fprintln(e.stderr, "custodyctl: restore is not available in this build")
	return 2
}
