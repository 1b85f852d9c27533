// Command benchtool measures whole processes for scripts/bench.sh (SPEC
// §12): it runs a command N times in a row and reports, per run, the wall
// time from fork to exit, the CPU time it used (user + system, from
// rusage) and the bytes it wrote (/proc/PID/io, read while the exited child
// is still a zombie), then the median and spread as one line of key=value
// pairs.
//
//	benchtool -n 30 -label healthy -- netcheck -config FILE
//
// Peak RSS is measured in -rss-runs further runs (default 3) under ptrace:
// the child's VmHWM read at its exit stop. rusage's ru_maxrss cannot be
// used: Go starts a child with vfork (CLONE_VM), and at exec the kernel
// carries the high-water mark of the mm it leaves, benchtool's own, into
// the child's ru_maxrss, so every figure below benchtool's RSS read as
// benchtool's RSS. The runs under ptrace are not timed.
//
// Several commands separated by "---" are measured paired: run i of each
// comes before run i+1 of any, so that a noisy moment on a shared machine
// falls on all of them alike. Each gets its own line; -label then lists
// one label per command, comma-separated.
//
//	benchtool -n 30 -label netcheck,floor -- netcheck --- floor 198.51.100.1
//
// It measures in the network namespace it runs in: bench.sh starts it with
// `ip netns exec`, so the cost of entering the namespace is not counted.
//
// Commands given the same label are pooled: one line for the label, over
// the runs of all of them. bench.sh measures each binary as several files
// this way (see -copy).
//
// -raw FILE appends every timed run to FILE as "label k.round wall_ns", k
// counting the commands of that label from 1, so that paired runs can be
// compared run by run (command k of one label with command k of another,
// in the same round).
//
//	benchtool -copy SRC DST
//
// writes a copy of SRC to DST through a shared mmap, as the Go linker
// writes its output, so that every binary measured is held alike in the
// page cache. How a file was written changes how fast the same bytes start
// and exit: measured here, a copy written with write(2) (cp) ran 11–20 %
// faster than the linker's output, because the page cache then holds it
// partly in large folios (seen in /proc/kpageflags: 37–56 % of the pages
// of a cp'd binary, 0–3 % of a linker-written one, 0 % of the system's
// busybox), how much depending on memory fragmentation at the time of the
// copy. Small folios are also what the targets have: a router's overlay
// (jffs2, ubifs) and the ext4 of a current Proxmox kernel cache files in
// small folios.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "benchtool:", err)
		}
		os.Exit(2)
	}
}

// sample is one timed run of the command.
type sample struct {
	wall       time.Duration
	cpu        time.Duration // user + system time of the child
	writeBytes int64         // bytes the process caused to be sent to storage
	wchar      int64         // bytes it passed to write(2) and friends
	code       int
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchtool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 30, "runs")
	rssRuns := fs.Int("rss-runs", 3, "further runs under ptrace that measure the peak RSS (not timed)")
	label := fs.String("label", "run", "label of the result line")
	raw := fs.String("raw", "", "append every timed run to `file` as: label run wall_ns")
	cp := fs.Bool("copy", false, "copy SRC to DST through a shared mmap (as the Go linker writes), then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cp {
		if fs.NArg() != 2 {
			return errors.New("usage: benchtool -copy SRC DST")
		}
		return mmapCopy(fs.Arg(0), fs.Arg(1))
	}
	cmds := [][]string{nil}
	for _, a := range fs.Args() {
		if a == "---" {
			cmds = append(cmds, nil)
			continue
		}
		cmds[len(cmds)-1] = append(cmds[len(cmds)-1], a)
	}
	labels := strings.Split(*label, ",")
	if len(cmds) == 1 {
		labels = []string{*label}
	}
	if *n < 1 || *rssRuns < 0 || len(labels) != len(cmds) || slices.ContainsFunc(cmds, func(c []string) bool { return len(c) == 0 }) {
		return errors.New("usage: benchtool [-n N] [-rss-runs K] [-label L[,L2…]] [-raw FILE] -- command [args] [--- command2 [args] …]")
	}
	paths := make([]string, len(cmds))
	for i, argv := range cmds {
		path, err := exec.LookPath(argv[0])
		if err != nil {
			return fmt.Errorf("find %s: %w", argv[0], err)
		}
		paths[i] = path
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	samples := make([][]sample, len(cmds))
	for range *n {
		for i, argv := range cmds {
			s, err := measure(paths[i], argv, devnull.Fd())
			if err != nil {
				return err
			}
			samples[i] = append(samples[i], s)
		}
	}
	rss := make([][]memory, len(cmds))
	for range *rssRuns {
		for i, argv := range cmds {
			m, err := peakRSS(paths[i], argv, devnull.Fd())
			for try := 1; errors.Is(err, errGone) && try < 3; try++ {
				m, err = peakRSS(paths[i], argv, devnull.Fd()) // gone before its exit stop: measure again
			}
			if err != nil {
				return err
			}
			rss[i] = append(rss[i], m)
		}
	}
	if *raw != "" {
		if err := writeRaw(*raw, labels, samples); err != nil {
			return err
		}
	}
	// One line per label, in order of first appearance, pooling the
	// commands that share it.
	var order []string
	pooled := map[string][]sample{}
	pooledRSS := map[string][]memory{}
	for i, l := range labels {
		if _, ok := pooled[l]; !ok {
			order = append(order, l)
		}
		pooled[l] = append(pooled[l], samples[i]...)
		pooledRSS[l] = append(pooledRSS[l], rss[i]...)
	}
	for _, l := range order {
		fmt.Fprintln(stdout, summarize(l, pooled[l], pooledRSS[l]))
	}
	return nil
}

// mmapCopy writes src's bytes to dst (mode 0755) through a shared mmap.
func mmapCopy(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if len(b) == 0 {
		return fmt.Errorf("copy: %s is empty", src)
	}
	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, len(b), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("copy to %s: mmap: %w", dst, err)
	}
	copy(m, b)
	if err := unix.Msync(m, unix.MS_SYNC); err != nil {
		unix.Munmap(m)
		return fmt.Errorf("copy to %s: msync: %w", dst, err)
	}
	if err := unix.Munmap(m); err != nil {
		return fmt.Errorf("copy to %s: munmap: %w", dst, err)
	}
	return f.Close()
}

// writeRaw appends one line per timed run to path.
func writeRaw(path string, labels []string, samples [][]sample) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open -raw file: %w", err)
	}
	seen := map[string]int{}
	for i, ss := range samples {
		seen[labels[i]]++
		for j, s := range ss {
			fmt.Fprintf(f, "%s %d.%d %d\n", labels[i], seen[labels[i]], j, s.wall.Nanoseconds())
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write -raw file: %w", err)
	}
	return nil
}

// measure forks and execs argv once with stdio on /dev/null.
func measure(path string, argv []string, devnull uintptr) (sample, error) {
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{devnull, devnull, devnull}}
	start := time.Now()
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return sample{}, fmt.Errorf("start %s: %w", path, err)
	}
	// Wait for the exit without reaping, so that /proc/PID/io still exists.
	var info unix.Siginfo
	for {
		err = unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("wait %d: %w", pid, err)
	}
	pio := readIO(pid)
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	if _, err := syscall.Wait4(pid, &ws, 0, &ru); err != nil {
		return sample{}, fmt.Errorf("reap %d: %w", pid, err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, writeBytes: pio["write_bytes"], wchar: pio["wchar"], code: ws.ExitStatus()}, nil
}

// memory is what /proc/PID/status says of a child at its exit stop, in
// KiB: VmHWM, its peak RSS, and RssFile, the file-backed part of its RSS
// then (the binary's own pages: no file mapping of a run goes before its
// exit, so this is that part of the peak too).
type memory struct{ hwm, file int64 }

// peakRSS runs argv once under ptrace and returns its peak RSS: the
// VmHWM of /proc/PID/status read when the child stops at its exit
// (PTRACE_O_TRACEEXIT), its memory still there. That is the high-water
// mark of the program alone, not of benchtool before the exec.
func peakRSS(path string, argv []string, devnull uintptr) (memory, error) {
	// ptrace requests must come from the thread that is the tracer.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{devnull, devnull, devnull},
		Sys: &syscall.SysProcAttr{Ptrace: true}}
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return memory{}, fmt.Errorf("start %s: %w", path, err)
	}
	var ws syscall.WaitStatus
	if err := wait(pid, &ws); err != nil {
		return memory{}, err
	}
	if !ws.Stopped() { // PTRACE_TRACEME: a SIGTRAP stop after the exec
		return memory{}, fmt.Errorf("%s did not stop after exec under ptrace (status %#x)", path, ws)
	}
	if err := syscall.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_EXITKILL); err != nil {
		return memory{}, fmt.Errorf("ptrace %d: %w", pid, err)
	}
	m, sig := memory{hwm: -1, file: -1}, 0
	for {
		if err := syscall.PtraceCont(pid, sig); err != nil {
			if !errors.Is(err, syscall.ESRCH) {
				return memory{}, fmt.Errorf("ptrace cont %d: %w", pid, err)
			}
			// A SIGKILL ends any ptrace stop, the exit stop too (ptrace(2)):
			// the child is gone; reap it.
			if err := wait(pid, &ws); err != nil {
				return memory{}, err
			}
			break
		}
		if err := wait(pid, &ws); err != nil {
			return memory{}, err
		}
		if ws.Exited() || ws.Signaled() {
			break
		}
		sig = 0
		switch {
		case ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
			m = readMemory(pid)
		case ws.StopSignal() != syscall.SIGTRAP:
			sig = int(ws.StopSignal()) // the Go runtime's SIGURG and the like: deliver it
		}
	}
	if m.hwm < 0 {
		return memory{}, fmt.Errorf("%s: %w", path, errGone)
	}
	return m, nil
}

// errGone is a child that ended before its exit stop, its VmHWM unread.
var errGone = errors.New("no VmHWM read at its exit")

func wait(pid int, ws *syscall.WaitStatus) error {
	for {
		_, err := syscall.Wait4(pid, ws, syscall.WALL, nil)
		if !errors.Is(err, syscall.EINTR) {
			if err != nil {
				return fmt.Errorf("wait %d: %w", pid, err)
			}
			return nil
		}
	}
}

// readMemory reads VmHWM and RssFile (KiB) from /proc/PID/status
// (proc(5): "VmHWM:   7388 kB"); -1 for one missing.
func readMemory(pid int) memory {
	m := memory{hwm: -1, file: -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch {
		case err != nil:
		case k == "VmHWM":
			m.hwm = n
		case k == "RssFile":
			m.file = n
		}
	}
	return m
}

// readIO reads /proc/PID/io; a missing field reads as -1.
func readIO(pid int) map[string]int64 {
	out := map[string]int64{"write_bytes": -1, "wchar": -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func quantile(xs []time.Duration, q float64) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// summarize renders the samples as one line of key=value pairs; times in
// milliseconds with three decimals.
func summarize(label string, ss []sample, rss []memory) string {
	var walls, cpus []time.Duration
	var wb, wc int64
	codes := map[int]int{}
	rssMedian, rssMax, fileMedian := int64(-1), int64(-1), int64(-1)
	if len(rss) > 0 {
		var hwm, file []int64
		for _, m := range rss {
			hwm, file = append(hwm, m.hwm), append(file, m.file)
		}
		rssMedian, rssMax, fileMedian = median(hwm), slices.Max(hwm), median(file)
	}
	for _, s := range ss {
		walls = append(walls, s.wall)
		cpus = append(cpus, s.cpu)
		wb += max(s.writeBytes, 0)
		wc += max(s.wchar, 0)
		codes[s.code]++
	}
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	}
	var exit []string
	for c, k := range codes {
		exit = append(exit, fmt.Sprintf("%dx%d", c, k))
	}
	slices.Sort(exit)
	return fmt.Sprintf("label=%s n=%d median_ms=%s min_ms=%s p90_ms=%s max_ms=%s cpu_median_ms=%s rss_runs=%d rss_median_kib=%d rss_max_kib=%d rss_file_median_kib=%d write_bytes_total=%d write_bytes_per_run=%d wchar_total=%d wchar_per_run=%d exit=%s",
		label, len(ss), ms(median(walls)), ms(slices.Min(walls)), ms(quantile(walls, 0.9)), ms(slices.Max(walls)), ms(median(cpus)),
		len(rss), rssMedian, rssMax, fileMedian, wb, wb/int64(len(ss)), wc, wc/int64(len(ss)), strings.Join(exit, ","))
}
