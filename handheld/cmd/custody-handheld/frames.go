package main

import (
	"flag"
	"fmt"

	"github.com/custodyhq/custody/handheld/scan/replay"
	"github.com/custodyhq/custody/shared/demo"
)

// demoFrames writes camera frames of the demo's inbound cases (ASN-1),
// for --camera replay:DIR.
func demoFrames(args []string) error {
	fs := flag.NewFlagSet("demo-frames", flag.ContinueOnError)
	out := fs.String("o", "", "folder to write the frames to")
	if err := fs.Parse(args); err != nil || *out == "" {
		return fmt.Errorf("usage: custody-handheld demo-frames -o DIR")
	}
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		return err
	}
	a := fx.ASN(demo.ASNUS)
	var scans [][]byte
	for _, it := range a.Items {
		if it.Parent != "" && it.Key.IsContainer() {
			scans = append(scans, fx.ScanOf(it.Key))
		}
	}
	paths, err := replay.WriteFolder(*out, scans, replay.Options{Seed: 1})
	if err != nil {
		return err
	}
	fmt.Printf("%d frames of the cases of %s in %s\n", len(paths), demo.ASNUS, *out)
	return nil
}
