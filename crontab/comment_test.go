package crontab

import (
	"reflect"
	"testing"
)

// TestTrailingShellComment: cron gives a line's command to /bin/sh, for
// which a # at the start of a word begins a comment to the end of the
// line. The original scripts' lines written with one ("rm -f
// /root/pve_did_reboot_today # 每天 0 点删除标记") are theirs alone, and
// the migration removes them (SPEC §10), not keeps them as lines that
// "run the original scripts beside your own commands"; and the owner's
// copy of our line with a comment after it is a copy, which Merge
// replaces, or netcheck ran twice a minute (README: a copy of one of them
// that you wrote yourself is replaced by ours).
func TestTrailingShellComment(t *testing.T) {
	legacy := "@reboot nohup /bin/bash /root/pve_host_monitor.sh >/dev/null 2>&1 & # 哨兵\n" +
		"0 0 * * * rm -f /root/pve_did_reboot_today # 每天 0 点删除标记\n" +
		"0 0 * * * echo 0 > /root/net_rb_count; rm -f /root/net_cooling_ts /root/SOS_SYSTEM #reset\n"
	if got := RemoveLegacy(legacy); got != "" {
		t.Errorf("RemoveLegacy kept %q; want the original scripts' lines all removed", got)
	}
	if got := Mixed(legacy); got != nil {
		t.Errorf("Mixed = %q; want none: a comment is no command of the user's", got)
	}
	for _, tt := range []struct {
		existing string
		role     Role
		want     string
	}{
		{"* * * * * /usr/bin/netcheck # the rescue\n", Router, r1 + r2},
		{"* * * * * /usr/bin/netcheck >/dev/null 2>&1 # every minute\n", Router, r1 + r2},
		{"*/5 * * * * /usr/local/bin/hostcheck\t#rescue\n", Host, h1 + h2 + h3},
		// Not a comment: inside a word, quoted or escaped.
		{"* * * * * /usr/bin/netcheck a#b\n", Router, "* * * * * /usr/bin/netcheck a#b\n" + r1 + r2},
		{"* * * * * /usr/bin/netcheck '# x'\n", Router, "* * * * * /usr/bin/netcheck '# x'\n" + r1 + r2},
		{"* * * * * /usr/bin/netcheck \\# x\n", Router, "* * * * * /usr/bin/netcheck \\# x\n" + r1 + r2},
	} {
		if got := Merge(tt.existing, tt.role); got != tt.want {
			t.Errorf("Merge(%q, %s) =\n%q; want\n%q", tt.existing, tt.role, got, tt.want)
		}
	}
	if got, want := Legacy("0 0 * * * /root/backup.sh # not pve_host_monitor.sh\n"), []string(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Legacy of a user's line that names the script in a comment = %q; want none", got)
	}
}
