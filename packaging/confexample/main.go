// Command confexample prints netrescue.conf.example for the release
// archives (SPEC §10): every key of both sides commented out with its
// default, from internal/config's key table (config.Example), so the file
// cannot drift from what the binaries accept. With -role router or -role
// host it prints that side alone, as the .deb's /etc/netrescue.conf.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pve-op/network-rescue/internal/config"
)

func main() {
	role := flag.String("role", "", "`router` or `host`; empty: both sides, one after the other")
	flag.Parse()
	switch *role {
	case "router", "host":
		fmt.Print(config.Example(config.Role(*role)))
	case "":
		fmt.Print(both())
	default:
		fmt.Fprintf(os.Stderr, "confexample: -role %q: want router, host or nothing\n", *role)
		os.Exit(2)
	}
}

// both is the two sides in one file, every line a comment: copy it to
// /etc/netrescue.conf and uncomment lines of your side only.
func both() string {
	var b strings.Builder
	b.WriteString(`# netrescue.conf.example: every setting of PVE-Op-Network-Rescue with its
# built-in default. install.sh writes the part of your side to
# /etc/netrescue.conf when there is none; to set something by hand, copy a
# line of YOUR side (router or host) there and delete its "# ".
#
# ======================================================================
`)
	b.WriteString(config.Example(config.Router))
	b.WriteString(`
# ======================================================================
`)
	b.WriteString(config.Example(config.Host))
	return b.String()
}
