package config

import (
	"fmt"
	"strings"
)

// Example returns a configuration file for role in which every key of the
// key table is a commented-out line with its built-in default, after a
// line saying what it may be set to. It is generated from the same table
// that Parse uses, so it cannot drift: the release's
// netrescue.conf.example and the .deb's /etc/netrescue.conf (SPEC §10).
// Uncommenting every key line gives exactly Default(role).
func Example(role Role) string {
	var b strings.Builder
	side, check := "router side (OpenWrt)", "netcheck status"
	if role == Host {
		side, check = "host side (Proxmox VE)", "hostcheck status"
	}
	fmt.Fprintf(&b, `# /etc/netrescue.conf: PVE-Op-Network-Rescue, %s.
#
# Every setting is commented out, so the built-in default shown applies.
# To change one, delete the "# " in front of it and edit the value.
# Format: KEY=value, optionally in 'single' or "double" quotes. Durations are
# written 90s, 1h30m or as bare seconds.
# Check this file and the whole setup with: %s
`, side, check)
	for _, k := range keys {
		if !k.has(role) {
			continue
		}
		b.WriteString("\n")
		if k.doc != "" {
			fmt.Fprintf(&b, "# %s: %s.\n", k.name, k.doc)
		}
		fmt.Fprintf(&b, "# allowed: %s", k.allowed)
		if k.alias != "" {
			fmt.Fprintf(&b, " (the original scripts' %s is accepted too)", k.alias)
		}
		if role == Host {
			for alias, name := range hostAliases {
				if name == k.name {
					fmt.Fprintf(&b, " (the original script's %s is accepted too)", alias)
				}
			}
		}
		fmt.Fprintf(&b, "\n# %s=%s\n", k.name, quoteValue(k.def(role)))
	}
	return b.String()
}

// quoteValue writes v so that Parse (and sh) reads it back as v: bare when
// nothing in it is special, else in single quotes, else (v holds a single
// quote) in double quotes with \ $ ` and " escaped.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, " \t#'\"\\$;&|<>(){}*?`~") && strings.TrimSpace(v) == v {
		return v // other white space at an end is quoted too: Parse trims it
	}
	if !strings.Contains(v, "'") {
		return "'" + v + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if strings.IndexByte("\\$`\"", v[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String() + `"`
}
