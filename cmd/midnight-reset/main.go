// Command midnight-reset starts a new rescue day; cron runs it at 00:00 on
// the host (SPEC §5, §6): it deletes the "rebooted today" mark. The role is
// detected from /etc/openwrt_release and can be forced with -role; on the
// router the same reset is netcheck run as midnight-reset (a symlink), so
// the router carries one binary (internal/midnight).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/midnight"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if code := cli.ExitCode(err); code != cli.ExitOK {
		fmt.Fprintln(os.Stderr, "midnight-reset:", err)
		os.Exit(code)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, stderr *os.File) error {
	return midnight.Run(ctx, args, stdout, stderr, "", midnight.ResetHost)
}
