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

// TestPostrmPurgeKeepsLiveInstall: dpkg -P netrescue after the host moved
// to install.sh (its hostcheck in /usr/local/bin) keeps the pinned router
// key, the state and the logs that hostcheck uses, and says so; without
// install.sh's copy the purge removes them. The postrm runs chrooted
// into a throwaway root, as dpkg --root runs it.
func TestPostrmPurgeKeepsLiveInstall(t *testing.T) {
	requireTools(t, "chroot")
	files := []string{"etc/netrescue/known_hosts", "var/lib/netrescue/pause", "var/log/pve_host_monitor.log", "root/pve_did_reboot_today"}
	for _, live := range []bool{true, false} {
		r := debRoot(t)
		copyFile(t, filepath.Join("..", "..", "packaging", "deb", "postrm"), filepath.Join(r, "postrm"), 0o755)
		for _, f := range files {
			write(t, filepath.Join(r, f), "kept\n", 0o600)
		}
		if live {
			write(t, filepath.Join(r, "usr/local/bin/hostcheck"), "binary hostcheck\n", 0o755)
		}
		out, err := exec.Command("chroot", r, "/bin/sh", "/postrm", "purge").CombinedOutput()
		if err != nil {
			t.Fatalf("postrm purge (install.sh's copy there: %v): %v\n%s", live, err, out)
		}
		for _, f := range files {
			if exists(filepath.Join(r, f)) != live {
				t.Errorf("after postrm purge with install.sh's copy there: %v, /%s there: %v; want %v", live, f, !live, live)
			}
		}
		said := strings.Contains(string(out), "netrescue: install.sh's host side (/usr/local/bin/hostcheck) uses them, so kept: /etc/netrescue/known_hosts, /var/lib/netrescue")
		if said != live {
			t.Errorf("postrm purge with install.sh's copy there: %v said %q; want the kept files named: %v", live, out, live)
		}
		if live && !strings.Contains(string(out), "dpkg removed /etc/netrescue.conf (the package's conffile): restore your copy, or run /usr/local/bin/hostcheck install") {
			t.Errorf("postrm purge beside install.sh's copy said %q; want the removed config named, with its fix", out)
		}
	}
}

// TestPostinstConfGet: the package's postinst reads SSH_KEY (the key it
// creates) and OP_IP (the router in the pairing command it prints) in sh,
// before any hostcheck runs. Each must read as hostcheck reads it: a
// config saved with CRLF line ends made ssh-keygen create a key whose name
// ended in a carriage return, and a comment after a tab was part of the
// printed address. Run by dash, as Debian runs postinst.
func TestPostinstConfGet(t *testing.T) {
	requireTools(t, "dash")
	b, err := os.ReadFile(filepath.Join("..", "..", "packaging", "deb", "postinst"))
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?s)\nconf_get\(\) \{\n.*?\n\}\n`).Find(b)
	if fn == nil {
		t.Fatal("no conf_get function in packaging/deb/postinst")
	}
	const key, ip = "/root/.ssh/router_key", "192.168.1.1"
	for _, content := range []string{
		"SSH_KEY=" + key + "\nOP_IP=" + ip + "\n",
		"SSH_KEY=" + key + "\r\nOP_IP=" + ip + "\t# lan\r\n",
		"export SSH_KEY=" + key + "\nOP_IP = " + ip + " # the router\n",
		"SSH_KEY=\"" + key + "\" # quoted\nOP_IP='" + ip + "'\n",
		"\uFEFFOP_IP=" + ip + "\n", // a UTF-8 BOM (SPEC §15)
		"# SSH_KEY=" + key + "\n#OP_IP=" + ip + "\n",
		"OP_IP=10.0.0.1\nOP_IP=" + ip + "\n",
		"",
	} {
		cfg, err := config.Parse("netrescue.conf", content, config.Host)
		if err != nil {
			t.Fatalf("%q: hostcheck refuses it: %v", content, err)
		}
		conf := filepath.Join(t.TempDir(), "netrescue.conf")
		if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, kv := range [][3]string{{"SSH_KEY", cfg.SSHKey, "/root/.ssh/id_ed25519"}, {"OP_IP", cfg.OpIP, "192.168.10.1"}} {
			cmd := exec.Command("dash", "-c", "CONF=$3\n"+string(fn)+`conf_get "$1" "$2"`, "postinst", kv[0], kv[2], conf)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%q: %v\n%s", content, err, out)
			}
			if got := strings.TrimSuffix(string(out), "\n"); got != kv[1] {
				t.Errorf("postinst's conf_get %s for %q = %q; hostcheck reads %q", kv[0], content, got, kv[1])
			}
		}
	}
}
