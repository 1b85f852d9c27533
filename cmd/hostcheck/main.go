// Command hostcheck is the host side of PVE-Op-Network-Rescue (SPEC §6).
// Cron runs it every five minutes on Proxmox VE (and `hostcheck boot` at
// @reboot). When the internet is down it reads the router's SOS signal over
// SSH and, at most once per calendar day, cold-restarts the router VM or
// reboots the physical host.
//
//	hostcheck [-config FILE] [-dry-run] [-v]   one run, as cron does
//	hostcheck boot                              @reboot: confirm a reboot
//	hostcheck status | plan | pin | drill       for people
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
	// SIGTERM is how a shutdown reaches a run that waits for its own
	// reboot: it ends the run quietly (SPEC §6 step 6).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], runenv.Real())
	stop()
	if code := cli.ExitCode(err); code != cli.ExitOK {
		fmt.Fprintln(os.Stderr, "hostcheck:", err)
		os.Exit(code)
	}
}
