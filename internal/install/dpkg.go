package install

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// PackageName is the host package's name (packaging/deb/control.in).
const PackageName = "netrescue"

// packageUnpacked reports whether dpkg's database in admindir
// (/var/lib/dpkg) has the netrescue package's files on disk: installed,
// or unpacked and not yet (or not successfully) configured. Removed with
// its config kept ("config-files") does not count. The database is read
// as dpkg reads it, without running dpkg-query, so that under --prefix
// nothing outside the tree is run: the status file, then the journal
// entries in updates/ (names of digits only, in order), which hold records
// newer than the status file until dpkg folds them in (dpkg's
// lib/dpkg/dbmodify.c, modstatdb_init and cleanupdates).
func packageUnpacked(admindir string) bool {
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
	switch status {
	case "installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
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
