package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// hostileSOS is a router's SOS_SYSTEM that tries to forge a host log line
// with a tag the README tells users to grep for, and to colour the
// terminal (issue 9 item 17).
const hostileSOS = "x\n2026-01-01 00:00:00 ERROR 【严重错误】检测到 PVE 未能成功重启！\x1b[31m"

// logLine is how every line hostcheck writes starts (internal/logx).
var logLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3} `)

// TestHostUntrustedRouterText runs the real hostcheck against a router whose
// state files are hostile or damaged (SPEC §15; issue 9 items 7, 14, 17):
// what the router wrote never forms a log line or a tag of its own, never
// puts a control character into the log, the mark or the status terminal,
// and a SOS_SYSTEM that cannot be read whole is still SOS.
func TestHostUntrustedRouterText(t *testing.T) {
	l := newHostLab(t)

	// grepHits returns the log lines `grep -E "严重错误|回退"` finds.
	grepHits := func(log string) []string {
		var out []string
		for _, line := range lines(log) {
			if strings.Contains(line, "严重错误") || strings.Contains(line, "回退") {
				out = append(out, line)
			}
		}
		return out
	}
	checkClean := func(t *testing.T, what, text string) {
		t.Helper()
		if strings.ContainsAny(text, "\x1b\r") || strings.Contains(text, "【严重错误】检测到") {
			t.Errorf("%s holds the router's raw text:\n%q", what, text)
		}
	}
	checkLog := func(t *testing.T, log string) {
		t.Helper()
		checkClean(t, "log", log)
		for _, line := range lines(log) {
			if !logLine.MatchString(line) {
				t.Errorf("log line not written by hostcheck's logger (forged by the router?): %q", line)
			}
		}
	}
	checkMark := func(t *testing.T, maxLen int) string {
		t.Helper()
		mark := readFile(t, l.mark)
		checkClean(t, "mark", mark)
		if len(mark) > maxLen {
			t.Errorf("mark is %d bytes; want at most %d", len(mark), maxLen)
		}
		for _, line := range lines(mark) {
			if strings.HasPrefix(line, "reason=") && (strings.ContainsAny(line, "【】") || strings.Contains(line, "严重错误")) {
				t.Errorf("mark reason holds a tag: %q", line)
			}
		}
		return mark
	}

	t.Run("hostile SOS content", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostileSOS)
		l.writeRouter(t, "net_rb_count", "10\n【回退】\x1b[2J")
		l.cut(t)
		r := l.hostcheck(t)
		if r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		log := readFile(t, l.log)
		checkLog(t, log)
		if hits := grepHits(log); len(hits) != 0 {
			t.Errorf(`grep -E "严重错误|回退" finds lines the router wrote: %q`, hits)
		}
		// The logger quotes the escaped value, doubling its backslashes.
		hostInOrder(t, "log", log, "【确认】捕获 SOS 信号！", `sos="x\\n2026-01-01 00:00:00 ERROR \\u3010`, "【终极动作】删除 SOS 成功。")
		if got := l.calls(t, "REBOOT"); len(got) != 1 {
			t.Errorf("calls = %q; want REBOOT once: the SOS is real, only its text is untrusted", l.calls(t))
		}
		checkMark(t, 2048)
	})

	t.Run("status shows the router's text escaped", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", hostileSOS)
		l.writeRouter(t, "net_rb_count", "10\n【回退】\x1b[2J")
		r := l.hostcheck(t, "status")
		checkClean(t, "status output", r.stdout+r.stderr)
		if strings.Contains(r.stdout, "【回退】") {
			t.Errorf("status shows the router's fake tag:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, `x\n2026-01-01 00:00:00 ERROR \u3010`) {
			t.Errorf("status lacks the escaped SOS content:\n%s", r.stdout)
		}
	})

	t.Run("50 MB SOS", func(t *testing.T) {
		l.reset(t)
		l.writeRouter(t, "SOS_SYSTEM", "time=x count=10 reason="+strings.Repeat("s", 50<<20))
		l.cut(t)
		r := l.hostcheck(t)
		if r.code != 0 {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
		log := readFile(t, l.log)
		checkLog(t, log)
		if len(log) > 16<<10 {
			t.Errorf("log is %d bytes after one run; want it bounded (at most 16 KiB)", len(log))
		}
		hostInOrder(t, "log", log, "【严重错误】OpenWrt 的 SOS_SYSTEM 超过 4096 字节", "file=/root/SOS_SYSTEM",
			"【确认】捕获 SOS 信号！", "【终极动作】删除 SOS 成功。")
		if len(l.calls(t, "REBOOT")) != 1 {
			t.Errorf("calls = %q; want REBOOT once", l.calls(t))
		}
		checkMark(t, 2048)
	})

	for _, tc := range []struct {
		name, kind string
		make       func(p string) error
	}{
		{"SOS is a FIFO", "fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"SOS is a directory", "directory", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"SOS links to /dev/zero", "symlink", func(p string) error { return os.Symlink("/dev/zero", p) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.reset(t)
			if err := tc.make(filepath.Join(l.root, "SOS_SYSTEM")); err != nil {
				t.Fatal(err)
			}
			l.cut(t)
			r := l.hostcheck(t)
			if r.code != 0 {
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
			log := readFile(t, l.log)
			checkLog(t, log)
			hostInOrder(t, "log", log, "【严重错误】OpenWrt 的状态文件损坏，未读取", "file=/root/SOS_SYSTEM", "kind="+tc.kind,
				"【确认】捕获 SOS 信号！")
			if strings.Contains(log, "无法通过 SSH 读取") {
				t.Errorf("a router that answers was taken for SSH failed:\n%s", log)
			}
			hits := grepHits(log)
			if len(hits) != 1 || !strings.Contains(hits[0], "【严重错误】OpenWrt 的状态文件损坏") {
				t.Errorf(`grep -E "严重错误|回退" = %q; want exactly the host's damaged-file line`, hits)
			}
			if len(l.calls(t, "REBOOT")) != 1 {
				t.Errorf("calls = %q; want REBOOT once: SOS in any form is SOS (SPEC §5)", l.calls(t))
			}
			checkMark(t, 2048)
		})
	}
}
