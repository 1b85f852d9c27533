// Command hostcheck is the host side of PVE-Op-Network-Rescue (SPEC §6).
// Cron runs it every five minutes on Proxmox VE (and `hostcheck boot` at
// @reboot). When the internet is down it reads the router's SOS signal over
// SSH and, at most once per calendar day, cold-restarts the router VM or
// reboots the physical host.
//
//	hostcheck [-config FILE] [-dry-run] [-v]   one run, as cron does
//	hostcheck boot                              @reboot: confirm a reboot
//	hostcheck status | plan | pin | drill       for people
//	hostcheck install | uninstall [flags]      the installer (see install -h)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/dnscheck"
	"github.com/pve-op/network-rescue/internal/install"
	"github.com/pve-op/network-rescue/internal/install/pair"
	"github.com/pve-op/network-rescue/internal/runenv"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "install" || os.Args[1] == "uninstall") {
		// The installer (SPEC §10), which scripts/install.sh runs.
		err := install.Main(context.Background(), "hostcheck", os.Args[1], os.Args[2:], pair.RealEnv(os.Stdin, os.Stdout, os.Stderr))
		if code := cli.ExitCode(err); code != cli.ExitOK {
			fmt.Fprintln(os.Stderr, "hostcheck:", err)
			os.Exit(code)
		}
		return
	}
	// No signal handler here: a run catches SIGTERM and SIGINT only once
	// it decides to act (runenv.Signals; SPEC §12, §15).
	e := runenv.Real()
	e.Resolve = dnscheck.Resolve // DNS_CHECK (SPEC §14): the host's alone
	err := run(context.Background(), os.Args[1:], e)
	if code := cli.ExitCode(err); code != cli.ExitOK {
		fmt.Fprintln(os.Stderr, "hostcheck:", err)
		os.Exit(code)
	}
}
