// Package crontab knows the cron lines that run the rescue (SPEC §0, §10):
// which lines a side needs, how to merge them into a crontab that also holds
// other people's lines, how to take them out again, and how to recognise the
// lines of the original shell scripts that the installer migrates from.
//
// Our lines are the ones that end in Marker. Everything else in a crontab is
// somebody else's and is kept byte for byte. The installer (internal/install,
// run by scripts/install.sh) and `status` use this package; it is the only
// copy of these rules.
package crontab

import "strings"

// Role is the side of the rescue a crontab belongs to: "router" or "host".
type Role string

// The two sides (SPEC §0).
const (
	Router Role = "router"
	Host   Role = "host"
)

// Marker ends every cron line that the installer owns.
const Marker = "# netrescue"

// Lines returns our cron lines for role, in the order the installer writes
// them (SPEC §0, §10). An unknown role has none.
func Lines(role Role) []string {
	switch role {
	case Router:
		return []string{
			"* * * * * /usr/bin/netcheck " + Marker,
			"0 0 * * * /usr/bin/midnight-reset " + Marker,
		}
	case Host:
		return []string{
			"*/5 * * * * /usr/local/bin/hostcheck " + Marker,
			"@reboot /usr/local/bin/hostcheck boot " + Marker,
			"0 0 * * * /usr/local/bin/midnight-reset " + Marker,
		}
	}
	return nil
}

// IsOurs reports whether line (with or without its newline) is one of ours:
// it ends in Marker, trailing blanks and a carriage return aside.
func IsOurs(line string) bool {
	line = strings.TrimSuffix(line, "\n")
	return strings.HasSuffix(strings.TrimRight(line, " \t\r"), Marker)
}

// Merge returns existing with our lines for role in it, exactly once each.
// Our stale lines (any line ending in Marker) are dropped; the fresh lines
// take the place of the first of them, or go at the end when there was none.
// Every other line is kept as it was. The result ends with a newline, as
// cron requires, and Merge(Merge(x, r), r) == Merge(x, r).
func Merge(existing string, role Role) string {
	var b strings.Builder
	inserted := false
	for _, seg := range segments(existing) {
		if IsOurs(seg) {
			if !inserted {
				writeLines(&b, Lines(role))
				inserted = true
			}
			continue
		}
		b.WriteString(seg)
	}
	if !inserted {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		writeLines(&b, Lines(role))
	}
	out := b.String()
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// Remove returns existing without our lines; every other byte is kept,
// including a last line without a newline.
func Remove(existing string) string { return removeLines(existing, IsOurs) }

// Check returns those of our lines for role that existing lacks, in the
// order of Lines; `status` names them. A line counts as present when it is
// there exactly, trailing blanks and a carriage return aside.
func Check(existing string, role Role) (missing []string) {
	have := make(map[string]bool)
	for _, seg := range segments(existing) {
		have[strings.TrimRight(strings.TrimSuffix(seg, "\n"), " \t\r")] = true
	}
	for _, l := range Lines(role) {
		if !have[l] {
			missing = append(missing, l)
		}
	}
	return missing
}

// legacyWords are names that only the original scripts' cron lines mention
// (SPEC §2): the router's procd service and its midnight reset of the count,
// cooling deadline and SOS flag, and the host's @reboot loop and the
// midnight removal of its daily mark.
var legacyWords = []string{
	"network_monitor",
	"pve_host_monitor.sh",
	"pve_did_reboot_today",
	"net_rb_count",
	"net_cooling_ts",
	"SOS_SYSTEM",
}

// IsLegacy reports whether line is an active cron line of the original
// scripts. Comments and our own lines never are.
func IsLegacy(line string) bool {
	line = strings.TrimSuffix(line, "\n")
	t := strings.TrimLeft(line, " \t")
	if t == "" || strings.HasPrefix(t, "#") || IsOurs(line) {
		return false
	}
	for _, w := range legacyWords {
		if strings.Contains(line, w) {
			return true
		}
	}
	return false
}

// Legacy returns the lines of existing that the original scripts installed
// (SPEC §2), without their newlines, for the installer's migration and for
// `status`.
func Legacy(existing string) []string {
	var out []string
	for _, seg := range segments(existing) {
		if IsLegacy(seg) {
			out = append(out, strings.TrimSuffix(seg, "\n"))
		}
	}
	return out
}

// RemoveLegacy returns existing without the lines Legacy reports; every
// other byte is kept.
func RemoveLegacy(existing string) string { return removeLines(existing, IsLegacy) }

// removeLines keeps every line (with its newline) for which drop is false.
func removeLines(existing string, drop func(string) bool) string {
	var b strings.Builder
	for _, seg := range segments(existing) {
		if !drop(seg) {
			b.WriteString(seg)
		}
	}
	return b.String()
}

// segments splits s into lines that keep their newline; only the last one
// may lack it. An empty s has none.
func segments(s string) []string {
	parts := strings.SplitAfter(s, "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

func writeLines(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// PackageFile is where the host package (.deb) puts its cron lines.
const PackageFile = "/etc/cron.d/netrescue"

// PackageLines are the host's jobs as the package's /etc/cron.d file has
// them (packaging/deb/cron.d): with the user field, and `test -x` so that
// cron stays quiet once the package is removed but not purged.
func PackageLines() []string {
	return []string{
		"*/5 * * * * root test -x /usr/bin/hostcheck && /usr/bin/hostcheck " + Marker,
		"@reboot root test -x /usr/bin/hostcheck && /usr/bin/hostcheck boot " + Marker,
		"0 0 * * * root test -x /usr/bin/midnight-reset && /usr/bin/midnight-reset " + Marker,
	}
}

// CheckPackage is Check for the package's cron file.
func CheckPackage(existing string) (missing []string) {
	have := make(map[string]bool)
	for _, seg := range segments(existing) {
		have[strings.TrimRight(strings.TrimSuffix(seg, "\n"), " \t\r")] = true
	}
	for _, l := range PackageLines() {
		if !have[l] {
			missing = append(missing, l)
		}
	}
	return missing
}
