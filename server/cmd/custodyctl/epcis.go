package main

import (
	"context"
	"fmt"
)

func runEPCIS(ctx context.Context, e *env, args []string) int {
	fmt.Fprintln(e.stderr, "custodyctl: epcis is not available in this build")
	return 2
}
