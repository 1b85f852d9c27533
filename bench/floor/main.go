// Command floor is the floor of our stack for `make bench` (SPEC §12): the
// least a Go program built like netcheck can do to answer "is the internet
// up?" — send one pro-bing echo to one address and exit at the first reply.
// A healthy netcheck run is compared with it, so that the bar measures what
// netcheck adds, not the cost of Go and pro-bing.
//
//	floor ADDRESS     exit 0 at the first reply, 1 after 1 s without one
package main

import (
	"net"
	"os"
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

func main() {
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: floor ADDRESS\n")
		os.Exit(2)
	}
	p := probing.New("")
	p.SetLogger(probing.NoopLogger{})
	p.SetPrivileged(os.Geteuid() == 0)
	p.SetIPAddr(&net.IPAddr{IP: net.ParseIP(os.Args[1])})
	p.Count = 1
	p.Timeout = time.Second
	p.OnRecv = func(*probing.Packet) { os.Exit(0) }
	if err := p.Run(); err != nil {
		os.Stderr.WriteString("floor: " + err.Error() + "\n")
		os.Exit(2)
	}
	os.Exit(1)
}
