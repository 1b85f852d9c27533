package crontab

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

const (
	wan2 = "* * * * * /usr/bin/netcheck -config /etc/netrescue-wan2.conf # netrescue\n"
	r1   = "* * * * * /usr/bin/netcheck # netrescue\n"
	r2   = "0 0 * * * /usr/bin/midnight-reset # netrescue\n"
	h1   = "*/5 * * * * /usr/local/bin/hostcheck # netrescue\n"
	h2   = "@reboot /usr/local/bin/hostcheck boot # netrescue\n"
	h3   = "0 0 * * * /usr/local/bin/midnight-reset # netrescue\n"
)

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		role Role
		want []string
	}{
		{"router", Router, []string{strings.TrimSpace(r1), strings.TrimSpace(r2)}},
		{"host", Host, []string{strings.TrimSpace(h1), strings.TrimSpace(h2), strings.TrimSpace(h3)}},
		{"unknown", Role("nas"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lines(tt.role); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lines(%q) = %q; want %q", tt.role, got, tt.want)
			}
			for _, l := range Lines(tt.role) {
				if !IsOurs(l) {
					t.Errorf("IsOurs(%q) = false; want true", l)
				}
			}
		})
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		role     Role
		want     string
	}{
		{"empty router", "", Router, r1 + r2},
		{"empty host", "", Host, h1 + h2 + h3},
		{"foreign line kept, ours appended", "0 3 * * * /usr/bin/backup\n", Router,
			"0 3 * * * /usr/bin/backup\n" + r1 + r2},
		{"missing final newline added before ours", "0 3 * * * /usr/bin/backup", Router,
			"0 3 * * * /usr/bin/backup\n" + r1 + r2},
		{"comments and blank lines kept", "# m h dom mon dow command\n\n", Host,
			"# m h dom mon dow command\n\n" + h1 + h2 + h3},
		{"already merged is unchanged", "a\n" + r1 + r2 + "b\n", Router, "a\n" + r1 + r2 + "b\n"},
		{"stale lines replaced in place", "a\n*/2 * * * * /old/netcheck # netrescue\nb\n0 1 * * * x # netrescue\nc\n", Router,
			"a\n" + r1 + r2 + "b\nc\n"},
		{"stale line last without newline", "a\n0 0 * * * old # netrescue", Host, "a\n" + h1 + h2 + h3},
		{"foreign last line without newline after ours", r1 + "tail", Router, r1 + r2 + "tail\n"},
		{"marker with trailing blanks and CR is ours", "x\n* * * * * /usr/bin/netcheck # netrescue \r\n", Router, "x\n" + r1 + r2},
		{"role switch replaces the other side's lines", "a\n" + r1 + r2, Host, "a\n" + h1 + h2 + h3},
		{"CRLF foreign lines kept", "a\r\nb\r\n", Router, "a\r\nb\r\n" + r1 + r2},
		{"marker inside a line is not ours", "echo '# netrescue' > /tmp/x\n", Router,
			"echo '# netrescue' > /tmp/x\n" + r1 + r2},
		// A copy of ours without the marker runs as ours does (Check
		// counts it): replaced by ours, not run twice beside it.
		{"copy without the marker replaced", "a\n* * * * * /usr/bin/netcheck\nb\n", Router, "a\n" + r1 + r2 + "b\n"},
		{"copy with trailing blanks replaced", "0 0 * * * /usr/local/bin/midnight-reset \r\n" + h1, Host, h1 + h2 + h3},
		// A line of ours the user commented out turns the rescue off:
		// it stays so, and is not added again (Disabled names it).
		{"commented out stays so", "# " + r1 + r2, Router, "# " + r1 + r2},
		{"all commented out", "a\n#" + h1 + "  # " + h2 + "#" + h3, Host, "a\n#" + h1 + "  # " + h2 + "#" + h3},
		{"commented out beside a stale line", "# " + r1 + "*/2 * * * * /old/netcheck # netrescue\n", Router, "# " + r1 + r2},
		{"commented out beside a copy that runs", "# " + r1 + "* * * * * /usr/bin/netcheck\n", Router, "# " + r1 + r1 + r2},
		// The owner's own line for our job, unmarked, is adopted as an
		// edited line of ours (marked: uninstall removes it). Kept beside
		// ours, netcheck ran twice a minute and climbed twice as fast.
		{"another command is kept", "* * * * * /usr/bin/netcheck -v\n", Router, "* * * * * /usr/bin/netcheck -v\n" + r1 + r2},
		// The owner's copy that only redirects its output is a copy:
		// kept, it ran beside ours, twice a minute.
		{"a copy redirected replaced", "a\n* * * * * /usr/bin/netcheck >/dev/null 2>&1\r\nb\n", Router, "a\n" + r1 + r2 + "b\n"},
		{"the host's copies redirected replaced", "*/5 * * * * /usr/local/bin/hostcheck >/dev/null 2>&1\n@reboot /usr/local/bin/hostcheck boot >/dev/null 2>&1", Host, h1 + h2 + h3},
		// Blanks between fields are blanks, tabs or several, and a line
		// may be indented: such a copy was kept, and ran beside ours.
		{"a copy with tabs replaced", "*/5\t*\t*\t*\t*\t/usr/local/bin/hostcheck >/dev/null 2>&1\n", Host, h1 + h2 + h3},
		{"a copy spaced and indented replaced", "  *  *  * * *   /usr/bin/netcheck  >/dev/null\n", Router, r1 + r2},
		// Other jobs of the same program are no copies: kept, ours added.
		{"another job of netcheck is kept", "0 * * * * /usr/bin/netcheck status >>/tmp/status\n", Router, "0 * * * * /usr/bin/netcheck status >>/tmp/status\n" + r1 + r2},
		{"a trial run is kept", "* * * * * /usr/bin/netcheck -dry-run >>/tmp/trial.log 2>&1\n", Router, "* * * * * /usr/bin/netcheck -dry-run >>/tmp/trial.log 2>&1\n" + r1 + r2},
		{"hourly is kept", "0 * * * * /usr/bin/netcheck >/dev/null\n", Router, "0 * * * * /usr/bin/netcheck >/dev/null\n" + r1 + r2},
		{"chained is kept", "* * * * * /usr/bin/netcheck >/dev/null; /root/sync.sh\n", Router, "* * * * * /usr/bin/netcheck >/dev/null; /root/sync.sh\n" + r1 + r2},
		{"with a flag is kept", "*/5 * * * * /usr/local/bin/hostcheck -config /etc/nr.conf >/dev/null 2>&1\n", Host,
			"*/5 * * * * /usr/local/bin/hostcheck -config /etc/nr.conf >/dev/null 2>&1\n" + h1 + h2 + h3},
		{"a bare name is kept", "* * * * * netcheck >/dev/null\n", Router, "* * * * * netcheck >/dev/null\n" + r1 + r2},
		// A line of ours the user edited (our lines never changed: it is
		// no stale one) is kept in place, ours not added beside it.
		{"an edited line of ours kept", "a\n" + wan2 + "b\n" + r2, Router, "a\n" + wan2 + "b\n" + r2},
		{"an edited line of ours kept, the other line added", wan2, Router, wan2 + r2},
		{"an edited line beside ours: both kept", wan2 + r1 + r2, Router, wan2 + r1 + r2},
		{"hostcheck's boot line edited", h1 + "@reboot sleep 60 && /usr/local/bin/hostcheck boot " + Marker + "\n" + h3, Host,
			h1 + h3 + "@reboot sleep 60 && /usr/local/bin/hostcheck boot " + Marker + "\n"}, // ours together, as they go in
		{"a marked line of another path is stale", "* * * * * /opt/netcheck -v # netrescue\n", Router, r1 + r2},
		// Commented out and edited, it stays off all the same.
		{"commented out with a flag stays so", "#* * * * * /usr/bin/netcheck -v # netrescue\n" + r2, Router, "#* * * * * /usr/bin/netcheck -v # netrescue\n" + r2},
		{"commented out with tabs stays so", "#\t* * * * *\t/usr/bin/netcheck # netrescue\n", Router, "#\t* * * * *\t/usr/bin/netcheck # netrescue\n" + r2},
		{"commented out with two blanks stays so", "# *  * * * * /usr/bin/netcheck # netrescue\n", Router, "# *  * * * * /usr/bin/netcheck # netrescue\n" + r2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.existing, tt.role)
			if got != tt.want {
				t.Errorf("Merge(%q, %q) = %q; want %q", tt.existing, tt.role, got, tt.want)
			}
			if again := Merge(got, tt.role); again != got {
				t.Errorf("Merge(Merge(%q)) = %q; want %q", tt.existing, again, got)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		want     string
	}{
		{"empty", "", ""},
		{"only ours", r1 + r2, ""},
		{"foreign kept byte for byte", "a \t\n\n# c\n" + h1 + "b\r\n" + h2 + h3 + "last", "a \t\n\n# c\nb\r\nlast"},
		{"our last line without newline", "a\n0 0 * * * x # netrescue", "a\n"},
		{"nothing of ours", "a\nb", "a\nb"},
		{"comment mentioning netrescue elsewhere kept", "# netrescue is installed below\n" + r1, "# netrescue is installed below\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Remove(tt.existing); got != tt.want {
				t.Errorf("Remove(%q) = %q; want %q", tt.existing, got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		role     Role
		want     []string
	}{
		{"empty router", "", Router, Lines(Router)},
		{"all present", "x\n" + h3 + h1 + h2, Host, nil},
		{"one missing", r1, Router, []string{strings.TrimSpace(r2)}},
		{"trailing blanks tolerated", strings.TrimSpace(r1) + "  \r\n" + r2, Router, nil},
		{"commented out is missing", "# " + r1 + r2, Router, []string{strings.TrimSpace(r1)}},
		{"other role's lines do not count", r1 + r2, Host, Lines(Host)},
		// SPEC §10's lines written by hand, without our marker, run too.
		{"without the marker", "* * * * * /usr/bin/netcheck\n0 0 * * * /usr/bin/midnight-reset \n", Router, nil},
		{"another command is not ours", "* * * * * /usr/bin/netcheck -v\n" + r2, Router, []string{strings.TrimSpace(r1)}},
		// An edited line of ours runs it (Merge keeps it so).
		{"an edited line of ours", wan2 + r2, Router, nil},
		{"hostcheck's run edited is not its boot", "*/5 * * * * nice /usr/local/bin/hostcheck # netrescue\n" + h3, Host, []string{strings.TrimSpace(h2)}},
		{"an edited line commented out is missing", "#" + wan2 + r2, Router, []string{strings.TrimSpace(r1)}},
		{"a marked line of another path is missing", "* * * * * /opt/netcheck # netrescue\n" + r2, Router, []string{strings.TrimSpace(r1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.existing, tt.role); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check(%q, %q) = %q; want %q", tt.existing, tt.role, got, tt.want)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		role     Role
		want     []string
	}{
		{"none", r1 + r2, Router, nil},
		{"one", "x\n# " + r1 + r2, Router, []string{"# " + strings.TrimSpace(r1)}},
		{"the other side's", "#" + h1, Router, nil},
		{"a comment that is not ours", "# * * * * * /usr/bin/netcheck\n", Router, nil},
		// Ours never changed: a line of ours on another schedule is the
		// user's edit, commented out all the same; one of another path is
		// stale.
		{"an edited schedule commented out", "# */2 * * * * /usr/bin/netcheck # netrescue\n", Router, []string{"# */2 * * * * /usr/bin/netcheck # netrescue"}},
		{"a stale line commented out", "# * * * * * /opt/netcheck # netrescue\n", Router, nil},
		{"commented out with a flag", "#* * * * * /usr/bin/netcheck -v # netrescue\n" + r2, Router, []string{"#* * * * * /usr/bin/netcheck -v # netrescue"}},
		{"commented out with tabs", "#\t* * * * *\t/usr/bin/netcheck # netrescue\n", Router, []string{"#\t* * * * *\t/usr/bin/netcheck # netrescue"}},
		{"commented out with two blanks", "# *  * * * * /usr/bin/netcheck # netrescue\n", Router, []string{"# *  * * * * /usr/bin/netcheck # netrescue"}},
		{"hostcheck's boot commented out with a flag", h1 + "#@reboot /usr/local/bin/hostcheck -v boot # netrescue\n" + h3, Host, []string{"#@reboot /usr/local/bin/hostcheck -v boot # netrescue"}},
		{"commented out but running too", "# " + r1 + r1, Router, nil},
		// The old line commented out and an edited copy below it, still
		// marked ours: the rescue runs; re-installing switched it off
		// (the edited line dropped as stale, ours left out as disabled).
		{"commented out, an edited copy runs", "#" + r1 + "* * * * * /usr/bin/netcheck -config /etc/netrescue-wan2.conf " + Marker + "\n" + r2, Router, nil},
		// Edited in front of the program, or with its base name alone.
		{"commented out, a niced copy runs", "# " + r1 + "* * * * * nice -n 10 /usr/bin/netcheck " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy by base name runs", "# " + r1 + "* * * * * netcheck " + Marker + "\n" + r2, Router, nil},
		{"hostcheck's run commented out, a delayed copy runs", "# " + h1 + "*/5 * * * * sleep 20; /usr/local/bin/hostcheck " + Marker + "\n" + h2 + h3, Host, nil},
		{"hostcheck's boot commented out, a delayed copy runs", h1 + "# " + h2 + "@reboot sleep 60 && /usr/local/bin/hostcheck boot " + Marker + "\n" + h3, Host, nil},
		// Glued redirects, parentheses, flock -c, sh -c, no blank after ;
		// (the lexer's words, not whitespace's).
		{"commented out, a copy with a glued redirect runs", "# " + r1 + "* * * * * /usr/bin/netcheck>/dev/null 2>&1 " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy under flock -c runs", "# " + r1 + "* * * * * flock -n /tmp/x -c '/usr/bin/netcheck' " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy in a subshell runs", "# " + r1 + "* * * * * (/usr/bin/netcheck) " + Marker + "\n" + r2, Router, nil},
		{"hostcheck's run commented out, a copy after ; runs", "# " + h1 + "*/5 * * * * sleep 20;/usr/local/bin/hostcheck " + Marker + "\n" + h2 + h3, Host, nil},
		{"hostcheck's boot commented out, a copy in sh -c runs", h1 + "# " + h2 + "@reboot sh -c \"sleep 60; /usr/local/bin/hostcheck boot\" " + Marker + "\n" + h3, Host, nil},
		// sh's combined options and --, a flag before boot, cd and ./,
		// the shell's command builtin.
		{"commented out, a copy under sh -ec runs", "# " + r1 + "* * * * * sh -ec '/usr/bin/netcheck' " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy under bash -lc runs", "# " + r1 + "* * * * * bash -lc '/usr/bin/netcheck' " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy under sh -c -- runs", "# " + r1 + "* * * * * /bin/sh -c -- '/usr/bin/netcheck' " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy run as ./netcheck runs", "# " + r1 + "* * * * * cd /usr/bin && ./netcheck " + Marker + "\n" + r2, Router, nil},
		{"commented out, a copy through command runs", "# " + r1 + "* * * * * command /usr/bin/netcheck " + Marker + "\n" + r2, Router, nil},
		{"hostcheck's boot commented out, a copy with a flag before boot runs", h1 + "# " + h2 + "@reboot /usr/local/bin/hostcheck -config /etc/netrescue-lab.conf boot " + Marker + "\n" + h3, Host, nil},
		{"hostcheck's run commented out, the boot line with a flag is no copy", "# " + h1 + "@reboot /usr/local/bin/hostcheck -v boot " + Marker + "\n" + h3, Host,
			[]string{"# " + strings.TrimSpace(h1)}},
		// A word that is no command, and the boot line with a glued
		// redirect, stand for nothing else.
		{"hostcheck's run commented out, logger's word is no copy", "# " + h1 + h2 + "0 0 * * * /usr/local/bin/midnight-reset; logger -t hostcheck reset " + Marker + "\n", Host,
			[]string{"# " + strings.TrimSpace(h1)}},
		{"hostcheck's run commented out, the boot line is no copy", "# " + h1 + "@reboot /usr/local/bin/hostcheck boot>/dev/null 2>&1 " + Marker + "\n" + h3, Host,
			[]string{"# " + strings.TrimSpace(h1)}},
		// The run every five minutes does not stand for the boot line.
		{"hostcheck's boot commented out, its run is no copy", h1 + "#" + h2 + h3, Host, []string{"#" + strings.TrimSpace(h2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Disabled(tt.existing, tt.role); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Disabled(%q, %q) = %q; want %q", tt.existing, tt.role, got, tt.want)
			}
		})
	}
}

// TestEdited: the lines of ours the user edited, which Merge keeps and the
// installer names; not ours as they are, nor stale ones, nor comments.
func TestEdited(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		role     Role
		want     []string
	}{
		{"none", r1 + r2, Router, nil},
		{"a flag", "x\n" + wan2 + r2, Router, []string{strings.TrimSpace(wan2)}},
		{"the other side's", wan2, Host, nil},
		{"another path", "* * * * * /opt/netcheck # netrescue\n", Router, nil},
		{"commented out", "#" + wan2, Router, nil},
		{"not marked", "* * * * * /usr/bin/netcheck -v\n", Router, nil},
		{"a copy redirected", "* * * * * /usr/bin/netcheck >/dev/null 2>&1\n", Router, nil},
		// By its bare name: cron's PATH on Debian lacks /usr/local/bin, so
		// the line never ran; it is stale, and ours takes its place.
		{"a bare name", "*/5 * * * * sleep 20; hostcheck # netrescue\n", Host, nil},
		{"the boot line with a flag", "@reboot /usr/local/bin/hostcheck -config /etc/nr.conf boot # netrescue\n", Host,
			[]string{"@reboot /usr/local/bin/hostcheck -config /etc/nr.conf boot # netrescue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Edited(tt.existing, tt.role); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Edited(%q, %q) = %q; want %q", tt.existing, tt.role, got, tt.want)
			}
		})
	}
}

func TestLegacy(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		want     []string
	}{
		{"none", "0 3 * * * backup\n" + r1, nil},
		{"host originals", "@reboot /root/pve_host_monitor.sh >/dev/null 2>&1 &\n0 0 * * * rm -f /root/pve_did_reboot_today\n0 3 * * * backup\n",
			[]string{"@reboot /root/pve_host_monitor.sh >/dev/null 2>&1 &", "0 0 * * * rm -f /root/pve_did_reboot_today"}},
		{"router originals", "*/5 * * * * /etc/init.d/network_monitor start\n0 0 * * * echo 0 > /root/net_rb_count; rm -f /root/net_cooling_ts /root/SOS_SYSTEM",
			[]string{"*/5 * * * * /etc/init.d/network_monitor start", "0 0 * * * echo 0 > /root/net_rb_count; rm -f /root/net_cooling_ts /root/SOS_SYSTEM"}},
		{"comments are not lines", "# @reboot /root/pve_host_monitor.sh\n  # network_monitor\n", nil},
		{"indented line counts", "  @reboot /root/pve_host_monitor.sh\n", []string{"  @reboot /root/pve_host_monitor.sh"}},
		{"user lines that only read the originals' files are kept",
			"30 6 * * * cp /root/network_monitor.log /mnt/usb/logs/\n" +
				"0 8 * * * test -f /root/pve_did_reboot_today && mail -s rebooted root </dev/null\n" +
				"0 9 * * * grep 严重错误 /var/log/pve_host_monitor.log | mail -s pve root\n", nil},
		{"originals among user lines", "30 6 * * * cp /root/network_monitor.log /mnt/usb/\n@reboot nohup /root/pve_host_monitor.sh >/dev/null 2>&1 &\n",
			[]string{"@reboot nohup /root/pve_host_monitor.sh >/dev/null 2>&1 &"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Legacy(tt.existing); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Legacy(%q) = %q; want %q", tt.existing, got, tt.want)
			}
			rest := RemoveLegacy(tt.existing)
			if l := Legacy(rest); l != nil {
				t.Errorf("Legacy(RemoveLegacy(%q)) = %q; want none", tt.existing, l)
			}
		})
	}
}

// TestMixed: a line that runs the original scripts beside a command of
// the user's is kept by RemoveLegacy and named by Mixed, for the user to
// edit (the installer says which line).
func TestMixed(t *testing.T) {
	const backup = "0 0 * * * rm -f /root/pve_did_reboot_today; /root/daily_backup.sh"
	tests := []struct {
		name     string
		existing string
		want     []string
	}{
		{"none", "@reboot /root/pve_host_monitor.sh &\n0 3 * * * backup\n" + h1, nil},
		{"the user's backup after the mark's reset", "@reboot /root/pve_host_monitor.sh &\n" + backup + "\n", []string{backup}},
		{"comments are not lines", "# " + backup + "\n", nil},
		// A helper (logger, echo) whose quoted argument runs the user's
		// job: the lexer keeps "$(…)" and backquotes inside the word.
		{"the user's job inside logger's quoted $(…)", "0 0 * * * rm -f /root/SOS_SYSTEM; logger \"backup: $(/root/backup.sh)\"\n",
			[]string{"0 0 * * * rm -f /root/SOS_SYSTEM; logger \"backup: $(/root/backup.sh)\""}},
		{"the user's job in backquotes", "0 0 * * * rm -f /root/pve_did_reboot_today; echo \"`/root/backup.sh`\" > /dev/null\n",
			[]string{"0 0 * * * rm -f /root/pve_did_reboot_today; echo \"`/root/backup.sh`\" > /dev/null"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mixed(tt.existing); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Mixed(%q) = %q; want %q", tt.existing, got, tt.want)
			}
			rest := RemoveLegacy(tt.existing)
			for _, l := range tt.want {
				if !strings.Contains(rest, l+"\n") {
					t.Errorf("RemoveLegacy(%q) = %q; want the mixed line %q kept", tt.existing, rest, l)
				}
			}
		})
	}
}

// TestIsLegacy: a line is the original scripts' when it runs one of them
// or resets their state files; a user's line that only reads those files
// (or mentions them) stays (SPEC §10: other lines untouched).
func TestIsLegacy(t *testing.T) {
	tests := []struct {
		name string
		line string
		want bool
	}{
		// The originals' lines.
		{"host loop at boot", "@reboot /root/pve_host_monitor.sh >/dev/null 2>&1 &", true},
		{"host loop given to nohup", "@reboot nohup /root/pve_host_monitor.sh > /dev/null 2>&1 &", true},
		{"host loop given to bash", "@reboot /bin/bash /root/pve_host_monitor.sh &", true},
		{"host loop given to sh -c", "@reboot sh -c '/root/pve_host_monitor.sh &'", true},
		{"host loop after cd", "@reboot cd /root && ./pve_host_monitor.sh &", true},
		{"host loop under nohup sh", "@reboot nohup sh /root/pve_host_monitor.sh &", true},
		// Started through a command that runs another.
		{"host loop under setsid", "@reboot setsid /usr/local/sbin/pve_host_monitor.sh >/dev/null 2>&1 &", true},
		{"host loop under nice -n", "@reboot nice -n 10 /root/pve_host_monitor.sh &", true},
		{"host loop under env bash", "@reboot /usr/bin/env bash /root/pve_host_monitor.sh &", true},
		{"host loop under timeout", "@reboot timeout 1d /root/pve_host_monitor.sh", true},
		{"host loop in screen", "@reboot screen -dmS mon /root/pve_host_monitor.sh", true},
		{"host loop under sh -c --", "@reboot sh -c -- '/root/pve_host_monitor.sh &'", true},
		{"mark removed by busybox rm", "0 0 * * * busybox rm -f /root/pve_did_reboot_today", true},
		{"count reset through tee", "0 0 * * * echo 0 | tee /root/net_rb_count", true},
		{"count reset by >&", "0 0 * * * echo 0 >& /root/net_rb_count", true},
		{"a user's nice backup of the log", "30 6 * * * nice -n 19 cp /root/network_monitor.log /mnt/usb/", false},
		{"a user's nice copy of the script", "0 3 * * * nice -n 19 cp /root/pve_host_monitor.sh /mnt/usb/", false},
		{"a user's timeout gzip of the script", "0 3 * * * timeout 60 gzip -c /root/network_monitor.sh > /tmp/copy", false},
		{"a user's flock tar of the script", "0 3 * * * flock /tmp/b.lock tar czf /mnt/b.tgz /root/pve_host_monitor.sh", false},
		{"a user's sudo tar of the script", "0 3 * * * sudo -u backup tar czf /mnt/b.tgz /root/network_monitor.sh", false},
		{"host loop under flock -c", "@reboot flock -n /tmp/m.lock -c '/root/pve_host_monitor.sh &'", true},
		{"host loop under env with a setting", "@reboot env -i PATH=/bin /root/pve_host_monitor.sh", true},
		{"host loop under sudo -u root", "@reboot sudo -u root /root/pve_host_monitor.sh", true},
		{"host loop under ionice -c", "@reboot ionice -c 3 /root/pve_host_monitor.sh", true},
		{"a user's tee of the log", "30 6 * * * tail /var/log/pve_host_monitor.log | tee /tmp/last.log", false},
		{"stderr joined to stdout", "0 3 * * * backup.sh > /tmp/b.log 2>&1", false},
		{"host mark removed at midnight", "0 0 * * * rm -f /root/pve_did_reboot_today", true},
		{"rm by path with a variable first", "0 0 * * * PATH=/bin /bin/rm /root/pve_did_reboot_today", true},
		{"router service started", "*/5 * * * * /etc/init.d/network_monitor start", true},
		{"router loop run", "* * * * * /usr/bin/network_monitor_logic.sh", true},
		{"router script given to ash", "@reboot ash /root/network_monitor.sh", true},
		{"router reset", "0 0 * * * echo 0 > /root/net_rb_count; rm -f /root/net_cooling_ts /root/SOS_SYSTEM", true},
		{"count written without blanks", "0 0 * * * echo 0>/root/net_rb_count", true},
		{"count written with >|", "0 0 * * * printf 0 >| /root/net_rb_count", true},
		{"count written by a quoted path", `0 0 * * * echo 0 > "/root/net_rb_count"`, true},
		{"SOS removed in an if", "0 0 * * * if true; then rm /root/SOS_SYSTEM; fi", true},
		// A user's lines.
		{"log copied", "30 6 * * * cp /root/network_monitor.log /mnt/usb/logs/", false},
		{"mark tested", "0 8 * * * test -f /root/pve_did_reboot_today && mail -s rebooted root </dev/null", false},
		{"mark tested with [", "0 8 * * * [ -f /root/pve_did_reboot_today ] && logger rebooted", false},
		{"log grepped", "0 9 * * * grep 严重错误 /var/log/pve_host_monitor.log", false},
		{"log grepped into a mail", `0 9 * * * grep -E "严重错误|回退" /var/log/pve_host_monitor.log | mail -s pve root`, false},
		{"count read into another file", "0 7 * * * cat /root/net_rb_count >> /root/counts.log", false},
		{"count read from stdin", "0 7 * * * logger < /root/net_rb_count", false},
		{"script backed up", "0 4 * * * cp /root/pve_host_monitor.sh /mnt/usb/", false},
		{"script named in an echo", "0 4 * * * echo /root/pve_host_monitor.sh >> /tmp/x", false},
		{"script name as stdin after %", "0 4 * * * mail root%/root/pve_host_monitor.sh", false},
		{"state file named in an rm of another file", "0 4 * * * rm -f /root/SOS_SYSTEM.bak", false},
		{"comment", "# @reboot /root/pve_host_monitor.sh", false},
		{"variable", "MAILTO=root", false},
		{"ours", "0 0 * * * rm -f /root/SOS_SYSTEM # netrescue", false},
		// Theirs beside a command of the user's: mixed, kept (Mixed).
		{"mark reset beside a backup", "0 0 * * * rm -f /root/pve_did_reboot_today; /root/daily_backup.sh", false},
		{"loop and another job at boot", "@reboot /root/pve_host_monitor.sh & /root/vpn-up.sh", false},
		{"rm of theirs and the user's", "0 0 * * * rm -f /root/SOS_SYSTEM /root/my.tmp", false},
		{"sh -c of both", "0 0 * * * sh -c 'rm -f /root/net_rb_count && /root/sync.sh'", false},
		{"an echo into the user's log", "0 0 * * * rm -f /root/SOS_SYSTEM; echo reset >> /root/my.log", false},
		// Helpers beside theirs only: theirs.
		{"after a sleep", "@reboot sleep 30 && /root/pve_host_monitor.sh >/dev/null 2>&1 &", true},
		{"guarded by a test", "0 0 * * * [ -f /root/SOS_SYSTEM ] && rm -f /root/SOS_SYSTEM", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsLegacy(tt.line); got != tt.want {
				t.Errorf("IsLegacy(%q) = %v; want %v", tt.line, got, tt.want)
			}
		})
	}
}

// TestLegacyReadersKept: whatever reads or copies the originals' files,
// however the line is scheduled, is never taken for theirs; whatever runs
// their scripts, however it is started, always is.
func TestLegacyReadersKept(t *testing.T) {
	files := []string{"/root/network_monitor.log", "/root/pve_did_reboot_today", "/var/log/pve_host_monitor.log",
		"/root/net_rb_count", "/root/SOS_SYSTEM", "/root/net_cooling_ts", "/root/pve_host_monitor.sh",
		"/usr/bin/network_monitor_logic.sh", "/etc/init.d/network_monitor"}
	scripts := []string{"/root/pve_host_monitor.sh", "./pve_host_monitor.sh", "/usr/bin/network_monitor_logic.sh",
		"/etc/init.d/network_monitor", "/root/network_monitor.sh"}
	schedule := rapid.SampledFrom([]string{"@reboot", "0 0 * * *", "*/5 * * * *", "  30 6 * * 1-5", "@daily"})
	rapid.Check(t, func(t *rapid.T) {
		when := schedule.Draw(t, "schedule")
		reader := rapid.SampledFrom([]string{"cp", "cat", "grep -c 严重错误", "tail -n 50", "test -f", "[ -e", "gzip -c",
			"ls -l", "/usr/bin/stat", "mail -s log root <", "echo"}).Draw(t, "reader")
		file := rapid.SampledFrom(files).Draw(t, "file")
		tail := rapid.SampledFrom([]string{"", " /mnt/usb/", " > /tmp/copy", " >> /root/counts.log", " 2>&1", " ]", " | logger"}).Draw(t, "tail")
		if line := when + " " + reader + " " + file + tail; IsLegacy(line) {
			t.Fatalf("IsLegacy(%q) = true; want a line that only reads %s kept", line, file)
		}
		starter := rapid.SampledFrom([]string{"", "nohup ", "sh ", "/bin/bash ", "ash ", "nohup sh ", "exec "}).Draw(t, "starter")
		script := rapid.SampledFrom(scripts).Draw(t, "script")
		if line := when + " " + starter + script + tail; !IsLegacy(line) {
			t.Fatalf("IsLegacy(%q) = false; want a line that runs %s taken out", line, script)
		}
	})
}

// lineGen draws crontab lines that are sometimes ours, sometimes the
// originals', sometimes odd (blanks, CR, comments).
func lineGen(withOurs bool) *rapid.Generator[string] {
	choices := []string{
		"0 3 * * * /usr/bin/backup", "", " ", "# comment", "\t# indented comment", "a\r",
		"@reboot /root/pve_host_monitor.sh &", "0 0 * * * rm -f /root/pve_did_reboot_today",
		"echo '# netrescue' x", "# netrescue is here", "* * * * * /usr/bin/netcheck", "@reboot /usr/local/bin/hostcheck boot ",
	}
	if withOurs {
		choices = append(choices, strings.TrimSpace(r1), strings.TrimSpace(h2), "stale # netrescue", "x # netrescue \r",
			"# "+strings.TrimSpace(r1), "#"+strings.TrimSpace(h2), "# stale # netrescue",
			// Ours edited, and edited then commented out.
			strings.TrimSpace(wan2), "@reboot sleep 9; hostcheck boot # netrescue", "#\t*/5 * * * * nice /usr/local/bin/hostcheck # netrescue")
	}
	return rapid.OneOf(rapid.SampledFrom(choices), rapid.StringMatching(`[ -~\t\r]{0,20}`))
}

func crontabGen(withOurs bool) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		lines := rapid.SliceOfN(lineGen(withOurs), 0, 8).Draw(t, "lines")
		s := strings.Join(lines, "\n")
		if rapid.Bool().Draw(t, "final newline") && s != "" {
			s += "\n"
		}
		return s
	})
}

func TestMergeRemoveProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		role := rapid.SampledFrom([]Role{Router, Host}).Draw(t, "role")
		x := crontabGen(true).Draw(t, "existing")
		m := Merge(x, role)
		if again := Merge(m, role); again != m {
			t.Fatalf("Merge(Merge(%q)) = %q; want %q", x, again, m)
		}
		if !strings.HasSuffix(m, "\n") {
			t.Fatalf("Merge(%q) = %q; want a final newline", x, m)
		}
		if miss := Check(m, role); !reflect.DeepEqual(miss, off(x, role)) {
			t.Fatalf("Check(Merge(%q)) = %q; want only those commented out missing: %q", x, miss, off(x, role))
		}
		if Disabled(x, role) == nil && Remove(m) != Remove(Merge(Remove(x), role)) {
			t.Fatalf("Merge(%q) keeps foreign lines differently from Merge(Remove(x))", x)
		}
		if got := Remove(Remove(x)); got != Remove(x) {
			t.Fatalf("Remove not idempotent on %q", x)
		}
	})
}

func TestRemoveMergeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		role := rapid.SampledFrom([]Role{Router, Host}).Draw(t, "role")
		x := crontabGen(false).Draw(t, "existing")
		want := x
		if x != "" && !strings.HasSuffix(x, "\n") {
			// Merge ends the file with the newline cron requires; that is
			// the only byte it may add to a foreign line.
			want = x + "\n"
		}
		want = withoutCopies(want, x, role)
		if got := Remove(Merge(x, role)); got != want {
			t.Fatalf("Remove(Merge(%q)) = %q; want %q", x, got, want)
		}
	})
}

// withoutCopies is s without the copies of our lines for role that Merge
// replaces by ours.
func withoutCopies(s, x string, role Role) string {
	return removeLines(s, func(seg string) bool { return isLine(seg, role) })
}

// off is Lines(role) that x comments out: Check(Merge(x)) reports them.
func off(x string, role Role) (lines []string) {
	for _, l := range Lines(role) {
		if disabled(segments(x), l) != nil {
			lines = append(lines, l)
		}
	}
	return lines
}

func FuzzMergeRemove(f *testing.F) {
	for _, s := range []string{"", "a\n", "a", r1 + r2, "x # netrescue", "a\r\n# netrescue\r\n", h1 + "b\n" + h3} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, x string, router bool) {
		role := Host
		if router {
			role = Router
		}
		m := Merge(x, role)
		if Merge(m, role) != m {
			t.Fatalf("Merge not idempotent on %q", x)
		}
		if !strings.HasSuffix(m, "\n") {
			t.Fatalf("Merge(%q) = %q lacks a final newline", x, m)
		}
		if miss := Check(m, role); !reflect.DeepEqual(miss, off(x, role)) {
			t.Fatalf("Check(Merge(%q)) = %q; want only those commented out missing: %q", x, miss, off(x, role))
		}
		r := Remove(x)
		if len(r) > len(x) || Remove(r) != r {
			t.Fatalf("Remove(%q) = %q is not a stable subset", x, r)
		}
		for _, seg := range segments(r) {
			if IsOurs(seg) {
				t.Fatalf("Remove(%q) left our line %q", x, seg)
			}
		}
		want := r
		if r != "" && !strings.HasSuffix(r, "\n") {
			want += "\n"
		}
		if got := Remove(m); got != withoutCopies(want, x, role) {
			t.Fatalf("Remove(Merge(%q)) = %q; want %q", x, got, withoutCopies(want, x, role))
		}
	})
}

func FuzzLegacy(f *testing.F) {
	for _, s := range []string{"", "@reboot /root/pve_host_monitor.sh &\n", "0 0 * * * rm -f /root/pve_did_reboot_today",
		"30 6 * * * cp /root/network_monitor.log /mnt/\n", "0 0 * * * echo 0 > /root/net_rb_count\n# x\n",
		"@reboot sh -c 'sh -c \"nohup /root/pve_host_monitor.sh\"'", "0 0 * * * a 2>&1 &>x >\"", r1 + h2} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, x string) {
		rest := RemoveLegacy(x)
		if l := Legacy(rest); l != nil {
			t.Fatalf("Legacy(RemoveLegacy(%q)) = %q; want none", x, l)
		}
		if len(rest) > len(x) {
			t.Fatalf("RemoveLegacy(%q) = %q is longer", x, rest)
		}
		// Comments and our lines are never taken out.
		var kept []string
		for _, seg := range segments(x) {
			if tl := strings.TrimLeft(seg, " \t"); strings.HasPrefix(tl, "#") || IsOurs(seg) {
				kept = append(kept, seg)
			}
		}
		var got []string
		for _, seg := range segments(rest) {
			if tl := strings.TrimLeft(seg, " \t"); strings.HasPrefix(tl, "#") || IsOurs(seg) {
				got = append(got, seg)
			}
		}
		if !reflect.DeepEqual(got, kept) {
			t.Fatalf("RemoveLegacy(%q) took out comments or our lines: %q; want %q", x, got, kept)
		}
	})
}

// TestPackageFile: the package's cron file (packaging/deb/cron.d, shipped
// as /etc/cron.d/netrescue) holds exactly the lines status looks for.
func TestPackageFile(t *testing.T) {
	b, err := os.ReadFile("../packaging/deb/cron.d")
	if err != nil {
		t.Fatal(err)
	}
	if missing := CheckPackage(string(b)); len(missing) > 0 {
		t.Errorf("packaging/deb/cron.d lacks %q", missing)
	}
	if missing := CheckPackage("*/5 * * * * /usr/local/bin/hostcheck # netrescue\n"); len(missing) != 3 {
		t.Errorf("CheckPackage of a user crontab = %q; want all three missing", missing)
	}
}
