// Command netcheck is the router side of PVE-Op-Network-Rescue (SPEC §5).
// Cron runs it once a minute on OpenWrt; each run probes the internet,
// takes at most one step of the escalation ladder (redial the WAN, restart
// the network, reboot the router, raise SOS for the host) and exits.
//
//	netcheck [-config FILE] [-dry-run] [-v]   one run, as cron does
//	netcheck status                           the health checklist
//	netcheck plan                             the timeline of a total outage
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/runenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], runenv.Real())
	stop()
	if code := cli.ExitCode(err); code != cli.ExitOK {
		fmt.Fprintln(os.Stderr, "netcheck:", err)
		os.Exit(code)
	}
}
