package installtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pve-op/network-rescue/internal/config"
)

// TestPostrmMetricsFile: the package's postrm (dpkg -r) removes the
// METRICS_FILE the configuration sets, read in sh since hostcheck is gone
// by then. Every form hostcheck's own parser (config.Parse) accepts must
// give the same path, or dpkg -r left the file behind without a word and
// node_exporter kept serving a stopped hostcheck's last values; a form it
// refuses must give nothing. Run by dash, as Debian runs postrm.
func TestPostrmMetricsFile(t *testing.T) {
	requireTools(t, "dash")
	b, err := os.ReadFile(filepath.Join("..", "..", "packaging", "deb", "postrm"))
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?s)\nmetrics_file\(\) \{\n.*?\n\}\n`).Find(b)
	if fn == nil {
		t.Fatal("no metrics_file function in packaging/deb/postrm")
	}
	const p = "/var/lib/prometheus/node-exporter/netrescue.prom"
	for _, content := range []string{
		"METRICS_FILE=" + p + "\n",
		"METRICS_FILE=" + p + " # textfile collector\n",
		"export METRICS_FILE=" + p + "\n",
		"METRICS_FILE = " + p + "\n",
		"METRICS_FILE=" + p + "\r\nSYSLOG=0\r\n",
		"METRICS_FILE=\"" + p + "\" # quoted\n",
		"METRICS_FILE='" + p + "'\n",
		"  METRICS_FILE=" + p + "  \n",
		"METRICS_FILE=/tmp/old.prom\nMETRICS_FILE=" + p + "\n",
		"# METRICS_FILE=" + p + "\n",
		"METRICS_FILE=\n",
		"METRICS_FILE=relative.prom\n",
		"METRICS_FILE=/var/lib/x/metrics.txt\n",
		"\uFEFFMETRICS_FILE=" + p + "\n", // a UTF-8 BOM (SPEC §15)
		"METRICS_FILE=/srv/node exporter/netrescue.prom # blanks in the path\n",
		"METRICS_FILE=/srv/node\texporter/netrescue.prom\t\n",
	} {
		want := ""
		if cfg, err := config.Parse("netrescue.conf", content, config.Host); err == nil {
			want = cfg.MetricsFile
		}
		conf := filepath.Join(t.TempDir(), "netrescue.conf")
		if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("dash", "-c", string(fn)+`metrics_file "$1"`, "postrm", conf).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", content, err, out)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != want {
			t.Errorf("postrm's metrics_file for %q = %q; hostcheck reads %q", content, got, want)
		}
	}
}
