package main

import (
	"context"
	"fmt"
)

func runGS1(ctx context.Context, e *env, args []string) int {
	fmt.Fprintln(e.stderr, "custodyctl: gs1 is not available in this build")
	return 2
}
