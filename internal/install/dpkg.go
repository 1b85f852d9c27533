package install

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PackageName is the host package's name (packaging/deb/control.in).
const PackageName = "netrescue"

// dpkg reads what dpkg knows of the netrescue package (host side only):
// in.pkg when it holds the host side, and a warning when it is removed
// but not purged, since its purge (the postrm of the version that was
// installed) deletes the files an install by install.sh uses too.
func (in *installer) dpkg() {
	state := packageState(in.path("/var/lib/dpkg"))
	switch state {
	case "installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending":
		in.pkg = exists(in.path("/usr/bin/hostcheck"))
	case "config-files":
		if !in.o.Uninstall {
			in.ui.warn("the netrescue package is removed but not purged (dpkg: config-files): dpkg -P netrescue would delete "+
				"/etc/netrescue.conf, /etc/netrescue/known_hosts and /var/lib/netrescue, which this install uses too",
				"run dpkg -P netrescue first, then this again; or back them up and restore them after the purge: "+
					"cp -a /etc/netrescue.conf /etc/netrescue /var/lib/netrescue /root/")
		}
	}
}

// packageState returns the state dpkg's database in admindir
// (/var/lib/dpkg) holds for the netrescue package (dpkg-query(1)'s
// db:Status-Status: installed, unpacked, half-configured, config-files,
// not-installed …), or "" when it knows nothing of it. The database is read
// as dpkg reads it, without running dpkg-query, so that under --prefix
// nothing outside the tree is run: the status file, then the journal
// entries in updates/ (names of digits only, in order), which hold records
// newer than the status file until dpkg folds them in (dpkg's
// lib/dpkg/dbmodify.c, modstatdb_init and cleanupdates).
func packageState(admindir string) string {
	status := ""
	if b, err := os.ReadFile(filepath.Join(admindir, "status")); err == nil {
		status = statusOf(string(b), PackageName, status)
	}
	ents, _ := os.ReadDir(filepath.Join(admindir, "updates"))
	var names []string
	for _, e := range ents {
		if n := e.Name(); n != "" && strings.Trim(n, "0123456789") == "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if b, err := os.ReadFile(filepath.Join(admindir, "updates", n)); err == nil {
			status = statusOf(string(b), PackageName, status)
		}
	}
	return status
}

// statusOf returns the package state (the third word of "Status: want
// flag state") of pkg in db, a file of deb822 stanzas in the format of
// dpkg's status file (deb-control(5), dpkg(1) FILES), or prev when db has
// no stanza for pkg.
func statusOf(db, pkg, prev string) string {
	for _, stanza := range strings.Split(strings.ReplaceAll(db, "\r\n", "\n"), "\n\n") {
		name, state := "", ""
		for _, l := range strings.Split(stanza, "\n") {
			if v, ok := strings.CutPrefix(l, "Package:"); ok {
				name = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "Status:"); ok {
				if f := strings.Fields(v); len(f) == 3 {
					state = f[2]
				}
			}
		}
		if name == pkg {
			prev = state
		}
	}
	return prev
}
