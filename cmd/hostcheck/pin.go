package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/pve-op/network-rescue/internal/remote"
)

// pin is `hostcheck pin` (SPEC §7): fetch the router's host key, show its
// fingerprint, and pin it into KNOWN_HOSTS after a yes.
func (h *host) pin(ctx context.Context, yes bool) error {
	addr := h.remote().Addr
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SSHTimeout)
	defer cancel()
	key, err := remote.FetchHostKey(ctx, addr, h.cfg.SSHTimeout)
	if err != nil {
		return fmt.Errorf("fetch host key of %s: %w", addr, err)
	}
	fmt.Fprintf(h.e.Stdout, "router %s offers host key %s %s\n", addr, key.Type(), remote.Fingerprint(key))
	if h.cfg.DryRun {
		// A dry run changes no file (README: -dry-run), KNOWN_HOSTS neither.
		return fmt.Errorf("not pinned: a dry run (-dry-run or DRY_RUN=1) changes no file; run hostcheck pin without it to pin %s", remote.Fingerprint(key))
	}
	if !yes {
		fmt.Fprintf(h.e.Stdout, "Check it on the router with: %s\n", remote.CheckKeyCommand(key))
		fmt.Fprintf(h.e.Stdout, "Pin it into %s? [y/N] ", h.cfg.KnownHosts)
		line, _ := bufio.NewReader(h.e.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return fmt.Errorf("not pinned: answer was %q", strings.TrimSpace(line))
		}
	}
	if err := remote.Pin(h.cfg.KnownHosts, addr, key); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	fmt.Fprintf(h.e.Stdout, "pinned %s for %s in %s\n", remote.Fingerprint(key), addr, h.cfg.KnownHosts)
	return nil
}
