package main

import (
	"context"
	"fmt"
)

func runBackup(ctx context.Context, e *env, args []string) int {
	fmt.Fprintln(e.stderr, "custodyctl: backup is not available in this build")
	return 2
}
