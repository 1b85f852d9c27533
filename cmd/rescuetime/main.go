// Command rescuetime prints the time to rescue (SPEC §12): for each class
// of fault — one that an L1 redial fixes, one that L2 (network and firewall
// restart) fixes, one that only a router reboot fixes, one that only a host
// reboot fixes — the minutes from the fault to the moment the fixing step
// starts, under the default configuration; and for an ISP outage beyond
// the router's next hop, which nothing in the house can fix, the disruptive
// actions per hour it costs (SPEC §14). The figures come from the real
// decision code (ladder.Router, rescue.Decide) on a simulated clock, beside
// those of a model of the original shell scripts for the same fault.
//
//	go run ./cmd/rescuetime          a plain table
//	go run ./cmd/rescuetime -md      the same as a Markdown table (BENCHMARKS.md)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pve-op/network-rescue/internal/config"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "rescuetime:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rescuetime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.Bool("md", false, "print a Markdown table")
	routerConf := fs.String("router-config", "", "the router's netrescue.conf `file` (default: built-in defaults)")
	hostConf := fs.String("host-config", "", "the host's netrescue.conf `file` (default: built-in defaults)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	rcfg, hcfg := config.Default(config.Router), config.Default(config.Host)
	var err error
	if *routerConf != "" {
		if rcfg, err = config.Load(*routerConf, config.Router, config.Options{Euid: -1, Required: "-router-config"}); err != nil {
			return err
		}
	}
	if *hostConf != "" {
		if hcfg, err = config.Load(*hostConf, config.Host, config.Options{Euid: -1, Required: "-host-config"}); err != nil {
			return err
		}
	}
	rows := table(rcfg, hcfg)
	isp := ispTable(rcfg, hcfg)
	if *md {
		writeMarkdown(stdout, rows)
		fmt.Fprintln(stdout)
		writeISPMarkdown(stdout, isp)
	} else {
		writeText(stdout, rows)
		fmt.Fprintln(stdout)
		writeISPText(stdout, isp)
	}
	return nil
}
