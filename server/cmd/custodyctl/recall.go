package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const recallUsage = `usage: custodyctl recall GTIN LOT [--client ID] [--note TEXT] [--csv]
  open the recall of a lot (a lead; asking again answers the open recall): the lot is held at once,
  on every node and handheld. Prints the recall's report: every unit of the lot by status and location,
  what is here and held, what came back, and what left per ship-to with shipment, date and serials
  (--csv: one row per unit)
`

func runRecall(ctx context.Context, e *env, args []string) int {
	if len(args) < 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		fmt.Fprint(e.stderr, recallUsage)
		return 2
	}
	gtin, lot := args[0], args[1]
	fs := flag.NewFlagSet("recall", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	client := fs.String("client", "", "the client owning the product (default: the product's)")
	note := fs.String("note", "", "why (the recall notice, its class)")
	asCSV := fs.Bool("csv", false, "print one CSV row per unit instead of the JSON report")
	if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 0 {
		fmt.Fprint(e.stderr, recallUsage)
		return 2
	}
	b, err := srvCall(ctx, e, http.MethodPost, "/api/v1/recalls", map[string]string{"gtin": gtin, "lot": lot, "client": *client, "note": *note}, time.Minute)
	if err != nil {
		fmt.Fprintln(e.stderr, "custodyctl: recall:", err)
		return 1
	}
	var rc struct{ ID string }
	if err := json.Unmarshal(b, &rc); err != nil || rc.ID == "" {
		fmt.Fprintln(e.stderr, "custodyctl: recall: the site's answer:", err)
		return 1
	}
	path := "/api/v1/recalls/" + url.PathEscape(rc.ID) + "?consistency=leader"
	if *asCSV {
		path += "&format=csv"
	}
	b, err = srvCall(ctx, e, http.MethodGet, path, nil, time.Minute)
	if err != nil {
		fmt.Fprintln(e.stderr, "custodyctl: recall report:", err)
		return 1
	}
	if *asCSV {
		e.stdout.Write(b)
		return 0
	}
	printJSON(e.stdout, b)
	return 0
}
