// Package nstest lets a test run Go code inside a network namespace it
// created (`ip netns add`): SSH clients and TCP listeners that must live on
// a test's own links. Only tests import it.
package nstest

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread moved into the named namespace, then moves the
// thread back. Sockets belong to the namespace of the thread that made
// them, so a listener or connection made in f stays in ns whatever
// goroutine serves it later. f must not call t.Fatal.
func Do(ns string, f func()) error {
	fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ns, err)
	}
	defer unix.Close(fd)
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		f()
		// Back home the thread may serve other goroutines; if that fails
		// it stays locked and the runtime ends it with this goroutine.
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		done <- nil
	}()
	return <-done
}
