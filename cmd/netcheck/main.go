// Command netcheck is the router side of PVE-Op-Network-Rescue (SPEC §5).
// Cron runs it once a minute on OpenWrt; each run probes the internet,
// takes at most one step of the escalation ladder (redial the WAN, restart
// the network, reboot the router, raise SOS for the host) and exits.
//
//	netcheck [-config FILE] [-dry-run] [-v]   one run, as cron does
//	netcheck status                           the health checklist
//	netcheck plan                             the timeline of a total outage
//	netcheck install | uninstall [flags]      the installer (see install -h)
//	midnight-reset [-config FILE] [-dry-run]  netcheck run as midnight-reset
//	                                          (a symlink): the 00:00 reset
//	netcheck assist dns|network|reboot        a step the host asks for (SPEC §14)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/midnight"
	"github.com/pve-op/network-rescue/internal/runenv"
)

func main() {
	// The router carries one binary: /usr/bin/midnight-reset is a symlink
	// to netcheck, busybox style (SPEC §10).
	if midnight.Invoked(os.Args[0]) {
		err := midnight.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, config.Router, nil)
		if code := cli.ExitCode(err); code != cli.ExitOK {
			fmt.Fprintln(os.Stderr, midnight.Name+":", err)
			os.Exit(code)
		}
		return
	}
	if len(os.Args) > 1 && (os.Args[1] == "install" || os.Args[1] == "uninstall") {
		// The installer (SPEC §10), which scripts/install.sh runs.
		err := install.Main(context.Background(), "netcheck", os.Args[1], os.Args[2:], install.RealEnv(os.Stdin, os.Stdout, os.Stderr))
		if code := cli.ExitCode(err); code != cli.ExitOK {
			fmt.Fprintln(os.Stderr, "netcheck:", err)
			os.Exit(code)
		}
		return
	}
	// No signal handler here: a run catches SIGTERM and SIGINT only once
	// it decides to act (runenv.Signals; SPEC §12, §15).
	err := run(context.Background(), os.Args[1:], runenv.Real())
	if code := exitCode(err); code != cli.ExitOK {
		fmt.Fprintln(os.Stderr, "netcheck:", err)
		os.Exit(code)
	}
}
