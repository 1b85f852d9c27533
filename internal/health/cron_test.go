package health

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/crontab"
)

// TestCronDisabled: status names a line of ours commented out as the
// rescue disabled, with the fix that works (remove the #): reinstalling,
// the fix it gave, keeps the line commented out. A line that is missing
// keeps the installer's fix; an edited line of ours counts as there.
func TestCronDisabled(t *testing.T) {
	const fix = "sh install.sh --role router"
	r1, r2 := crontab.Lines(crontab.Router)[0], crontab.Lines(crontab.Router)[1]
	tests := []struct {
		name       string
		content    string
		ok         bool
		wantDetail string // PATH for the crontab
		wantFix    string
	}{
		{name: "all there", content: r1 + "\n" + r2 + "\n", ok: true, wantDetail: "PATH"},
		{name: "an edited line of ours", content: "* * * * * /usr/bin/netcheck -config /etc/netrescue-wan2.conf # netrescue\n" + r2 + "\n", ok: true, wantDetail: "PATH"},
		{name: "missing", content: r2 + "\n", wantDetail: "PATH lacks: " + r1, wantFix: fix},
		{name: "commented out", content: "#" + r1 + "\n" + r2 + "\n",
			wantDetail: "PATH: the rescue is disabled, this line commented out: #" + r1,
			wantFix:    "remove the # at the start of that line: crontab -e (the installer keeps it commented out)"},
		{name: "commented out, edited", content: "# * * * * * /usr/bin/netcheck -v # netrescue\n" + r2 + "\n",
			wantDetail: "PATH: the rescue is disabled, this line commented out: # * * * * * /usr/bin/netcheck -v # netrescue",
			wantFix:    "remove the # at the start of that line: crontab -e (the installer keeps it commented out)"},
		{name: "commented out and one missing", content: "#" + r1 + "\n",
			wantDetail: "PATH: the rescue is disabled, this line commented out: #" + r1 + "; it lacks: " + r2,
			wantFix:    "remove the # at the start of that line: crontab -e (the installer keeps it commented out); for the rest: " + fix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "root")
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c := Cron(p, crontab.Router, fix)[0]
			want := Check{OK: tt.ok, Name: "cron entries", Detail: strings.ReplaceAll(tt.wantDetail, "PATH", p), Fix: tt.wantFix}
			if c != want {
				t.Errorf("Cron(%q) = %+v; want %+v", tt.content, c, want)
			}
		})
	}
}
