// Package report reads the logs of both sides back (SPEC §7 `report`):
// outages per month, how long they lasted, which step ended them, router
// reboots, SOS signals, host interventions and misfires. It only reads
// the lines the binaries write (SPEC §8), so its parser is fuzzed.
package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/state"
)

// Line is one parsed log line.
type Line struct {
	Time  time.Time
	Level string
	Msg   string
	Attrs map[string]string
}

// ParseLine parses "YYYY-mm-dd HH:MM:SS LVL message key=value…". The
// message may hold spaces and '='; the attributes are the longest tail of
// the line that reads as key=value pairs. The original scripts' lines,
// "[YYYY-mm-dd HH:MM:SS] message" (SPEC §2), which the installer keeps in
// the same log, are read too, as level INF with no attributes. ok is
// false for any other line.
func ParseLine(s string) (l Line, ok bool) {
	if len(s) > 22 && s[0] == '[' && s[20] == ']' && s[21] == ' ' {
		// The original's: its tags are counted, it has no lengths.
		s = s[1:20] + " INF " + s[22:]
	}
	if len(s) < 24 || s[19] != ' ' {
		return Line{}, false
	}
	t, err := time.ParseInLocation(time.DateTime, s[:19], time.Local)
	if err != nil {
		return Line{}, false
	}
	rest := s[20:]
	lvl, rest, found := strings.Cut(rest, " ")
	if !found || len(lvl) != 3 || strings.ToUpper(lvl) != lvl {
		return Line{}, false
	}
	l = Line{Time: t, Level: lvl, Msg: rest, Attrs: map[string]string{}}
	for i := 0; i < len(rest); i++ {
		if rest[i] != ' ' {
			continue
		}
		if attrs, ok := parseAttrs(rest[i+1:]); ok {
			l.Msg, l.Attrs = rest[:i], attrs
			break
		}
	}
	return l, true
}

// parseAttrs parses a whole string as key=value pairs separated by single
// spaces; values are bare or Go-quoted.
func parseAttrs(s string) (map[string]string, bool) {
	out := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || !isKey(s[:eq]) {
			return nil, false
		}
		k := s[:eq]
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, false
			}
			v, _ = strconv.Unquote(q)
			s = s[len(q):]
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			v, s = s[:end], s[end:]
		}
		out[k] = v
		if s == "" {
			break
		}
		if s[0] != ' ' {
			return nil, false
		}
		s = s[1:]
	}
	return out, len(out) > 0
}

func isKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// Month sums one calendar month up.
type Month struct {
	Month       string // 2026-11
	Outages     int
	Lengths     []time.Duration
	EndedBy     map[string]int // last action before recovery: none, L1, L2, L3, vm, host
	Reboots     int            // router reboots (【L3-动作】)
	SOS         int
	HostReboots int // 【终极动作】 PVE reboots
	VMRestarts  int // 【终极动作】 VM cold restarts
	VMStarts    int // 【终极动作】 starts of a stopped and resumes of a paused VM (SPEC §13)
	Assists     int // 【LAN】 steps the host asked the router for (SPEC §14)
	Misfires    int // 【回退】
	Errors      int // 严重错误 lines
}

// Summarize reads log text (older files first) into months, oldest first.
func Summarize(r io.Reader) ([]Month, error) {
	byMonth := map[string]*Month{}
	get := func(t time.Time) *Month {
		k := t.Format("2006-01")
		if byMonth[k] == nil {
			byMonth[k] = &Month{Month: k, EndedBy: map[string]int{}}
		}
		return byMonth[k]
	}
	lr := lineReader{r: bufio.NewReaderSize(r, maxLine)}
	// The months of the last host reboot and the last misfire: a 【回退】
	// or 【确认】 that undoes one may come in the next (a reboot ordered at
	// 23:59:50, a misfire found at 00:01).
	var rebootIn, misfireIn *Month
	for {
		text, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		l, ok := ParseLine(text)
		if !ok {
			continue
		}
		m := get(l.Time)
		msg := strings.TrimPrefix(l.Msg, "【演练】")
		if msg != l.Msg {
			continue // dry runs did nothing
		}
		switch {
		case strings.HasPrefix(msg, "【状态恢复】网络已恢复"), strings.HasPrefix(msg, "【恢复】"):
			m.Outages++
			if d, err := time.ParseDuration(l.Attrs["outage"]); err == nil {
				m.Lengths = append(m.Lengths, d)
			}
			if a := l.Attrs["last_action"]; a != "" {
				m.EndedBy[a]++
			}
		case strings.HasPrefix(msg, "【L3-动作】"):
			m.Reboots++
		case strings.HasPrefix(msg, "【严重错误】状态无法保存，为防止"):
			// The step logged just before was withheld: its state could
			// not be saved. netcheck: an L3, or the host's assist reboot
			// (step=reboot); hostcheck: a VM step or an assist request
			// (it logs a host reboot only after saving).
			n := new(int)
			switch l.Attrs["action"] {
			case "L3":
				n = &m.Reboots
			case "vm-restart":
				n = &m.VMRestarts
			case "vm-start", "vm-resume":
				n = &m.VMStarts
			case "assist":
				n = &m.Assists
			}
			if l.Attrs["step"] == "reboot" {
				n = &m.Reboots
			}
			*n = max(*n-1, 0)
		case strings.HasPrefix(msg, "【严重错误】状态无法保存，SOS 未能写入") && m.SOS > 0:
			m.SOS-- // the 【SOS】 logged just before was withheld: no SOS
		case strings.HasPrefix(msg, "【SOS】"):
			m.SOS++
		case strings.HasPrefix(msg, "【终极动作】冷重启"):
			m.VMRestarts++
		case strings.HasPrefix(msg, "【终极动作】启动已停止"), strings.HasPrefix(msg, "【终极动作】恢复已暂停"):
			m.VMStarts++
		case strings.HasPrefix(msg, "【终极动作】") && strings.Contains(msg, "PVE 物理机"):
			m.HostReboots++
			rebootIn = m
		case strings.HasPrefix(msg, "【确认】上次判定未生效"):
			// That misfire was a slow shutdown: a reboot after all, in
			// the month the misfire was counted.
			if misfireIn == nil {
				misfireIn = m
			}
			misfireIn.HostReboots++
			if misfireIn.Misfires > 0 {
				misfireIn.Misfires--
			}
		case strings.HasPrefix(msg, "【LAN】请求 OpenWrt 协助"):
			m.Assists++
		case strings.HasPrefix(msg, "【回退】PVE 重启已取消"):
			// Stopped by a person before the command ran: no reboot, no
			// misfire.
			if rebootIn != nil && rebootIn.HostReboots > 0 {
				rebootIn.HostReboots--
			}
		case strings.HasPrefix(msg, "【回退】"), strings.HasPrefix(msg, "【严重错误】今天第二次"):
			// A misfire (the second of a day keeps the mark, no 【回退】):
			// its 【终极动作】 line was no reboot either.
			m.Misfires++
			misfireIn = m
			if rebootIn != nil && rebootIn.HostReboots > 0 {
				rebootIn.HostReboots--
			}
		}
		if strings.Contains(msg, "严重错误") {
			m.Errors++
		}
	}
	keys := make([]string, 0, len(byMonth))
	for k := range byMonth {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Month, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byMonth[k])
	}
	return out, nil
}

// maxLine bounds what is kept of one log line. The binaries write short
// lines, but an old hostcheck logged whole router files (issue 9 item 7):
// a longer line counts by its start, the rest is skipped unread into
// memory, and the lines after it are read as usual.
const maxLine = 64 << 10

// lineReader yields lines of any length, each cut to maxLine bytes.
type lineReader struct{ r *bufio.Reader }

// next returns the next line without its newline, or io.EOF.
func (lr lineReader) next() (string, error) {
	line, err := lr.r.ReadSlice('\n')
	text := strings.TrimSuffix(string(line), "\n")
	for err == bufio.ErrBufferFull {
		_, err = lr.r.ReadSlice('\n') // the rest of a long line: dropped
	}
	if err == io.EOF && len(text) > 0 {
		return text, nil // a last line without a newline
	}
	return text, err
}

// Files opens path.1 (logx.Rotated: beside a symlink's target) then path
// (the rotated generation first), skipping
// the ones that do not exist. Each is opened without blocking and must be
// a regular file (SPEC §15): a FIFO in the log's place would otherwise
// hang `report` until something writes to it.
func Files(path string) (io.Reader, func(), error) {
	var rs []io.Reader
	var fs []*os.File
	closeAll := func() {
		for _, f := range fs {
			f.Close()
		}
	}
	for _, p := range []string{logx.Rotated(path), path} {
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			closeAll()
			return nil, func() {}, fmt.Errorf("open log: %w", err)
		}
		fs = append(fs, f)
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			continue // LOG_FILE=/dev/null, a setting: nothing to read back
		} else if err != nil || !fi.Mode().IsRegular() {
			closeAll()
			if err == nil {
				err = fmt.Errorf("%s: not a regular file (%s)", p, state.FileKind(fi.Mode()))
			}
			return nil, func() {}, fmt.Errorf("open log: %w", err)
		}
		rs = append(rs, f)
	}
	return io.MultiReader(rs...), closeAll, nil
}

// Write prints the months as a table a person reads.
func Write(w io.Writer, months []Month, host bool) {
	if len(months) == 0 {
		fmt.Fprintln(w, "no events in the log yet (a healthy network logs nothing)")
		return
	}
	if host {
		fmt.Fprintf(w, "%-8s %8s %10s %10s %8s %10s %8s %6s %9s %7s\n", "month", "outages", "median", "longest", "host", "VM restart", "VM start", "LAN", "misfires", "errors")
	} else {
		fmt.Fprintf(w, "%-8s %8s %10s %10s %-24s %8s %5s %7s\n", "month", "outages", "median", "longest", "ended after", "reboots", "SOS", "errors")
	}
	for _, m := range months {
		med, longest := "-", "-"
		if len(m.Lengths) > 0 {
			// Whole seconds, as shown, sorted as ints: a sort of its own
			// for []time.Duration cost netcheck ~6 KB (SPEC §12).
			s := make([]int, len(m.Lengths))
			for i, d := range m.Lengths {
				s[i] = int(d.Round(time.Second) / time.Second)
			}
			slices.Sort(s)
			// The median: the middle one, or halfway between the two middle
			// ones (two outages of 3m and 1h are no "median 1h").
			n := len(s)
			med = (time.Duration((s[(n-1)/2]+s[n/2])/2) * time.Second).String()
			longest = (time.Duration(s[n-1]) * time.Second).String()
		}
		if host {
			fmt.Fprintf(w, "%-8s %8d %10s %10s %8d %10d %8d %6d %9d %7d\n", m.Month, m.Outages, med, longest, m.HostReboots, m.VMRestarts, m.VMStarts, m.Assists, m.Misfires, m.Errors)
			continue
		}
		var ended []string
		for _, a := range []string{"none", "L1", "L2", "L3", "vm", "host"} {
			if n := m.EndedBy[a]; n > 0 {
				ended = append(ended, fmt.Sprintf("%s:%d", a, n))
			}
		}
		fmt.Fprintf(w, "%-8s %8d %10s %10s %-24s %8d %5d %7d\n", m.Month, m.Outages, med, longest, strings.Join(ended, " "), m.Reboots, m.SOS, m.Errors)
	}
}

// WriteFile summarises the log at path (and its rotated .1) to w.
func WriteFile(w io.Writer, path string, host bool) error {
	r, closeAll, err := Files(path)
	if err != nil {
		return err
	}
	defer closeAll()
	months, err := Summarize(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	fmt.Fprintf(w, "from %s (and %s)\n", path, logx.Rotated(path))
	Write(w, months, host)
	return nil
}
