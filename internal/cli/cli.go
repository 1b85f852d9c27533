// Package cli holds what netcheck, hostcheck and midnight-reset share at
// their edges: the common flags, exit codes, the run lock and the logger
// built from the configuration (SPEC §7, §8).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/internal/pause"
	"github.com/pve-op/network-rescue/internal/tz"
	"github.com/pve-op/network-rescue/state"
)

// Exit statuses (SPEC §7).
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Version is set at link time (-X) by every build of the Makefile (make
// build, dist, release, deb): `git describe`. A plain `go build` prints
// "devel": reading the module's build info (runtime/debug) for a revision
// cost netcheck ~12 KB (SPEC §12: stripped netcheck ≤ 5 MiB).
var Version = ""

// VersionString describes the binary for -version.
func VersionString(name string) string {
	v := Version
	if v == "" {
		v = "devel"
	}
	return name + " " + v
}

// UsageError is a mistake on the command line: exit 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
//
//go:noinline
func Usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// ExitCode maps a run's error to the process exit status.
func ExitCode(err error) int {
	var ue *UsageError
	var ce *config.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue), errors.As(err, &ce):
		return ExitUsage
	}
	return ExitFailure
}

// Flags are the flags every binary takes.
type Flags struct {
	Config string
	// ConfigSet is true when -config was given: then the file must exist
	// (SPEC §15); only the default path may be missing.
	ConfigSet bool
	DryRun    bool
	Verbose   bool
	Version   bool
}

// Register adds the common flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Config, "config", config.DefaultPath, "configuration `file`")
	fs.BoolVar(&f.DryRun, "dry-run", false, "decide and log with 【演练】, change nothing real")
	fs.BoolVar(&f.Verbose, "v", false, "verbose: also print to the terminal, with debug lines")
	fs.BoolVar(&f.Version, "version", false, "print the version and exit")
}

// NewFlagSet returns the flag set of a binary with the common flags
// registered; the caller adds its own flags, then calls ParseArgs.
func NewFlagSet(name, usage string, stderr io.Writer) (*flag.FlagSet, *Flags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &Flags{}
	f.Register(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	return fs, f
}

// ParseArgs parses args, handles -version (done is then true) and checks
// the subcommand against subs ("" — the cron run — is always allowed).
func ParseArgs(fs *flag.FlagSet, f *Flags, args []string, stdout io.Writer, subs ...string) (sub string, done bool, err error) {
	sub, rest, err := Parse(fs, args)
	if err != nil {
		return "", false, err
	}
	fs.Visit(func(fl *flag.Flag) { f.ConfigSet = f.ConfigSet || fl.Name == "config" })
	if f.Version {
		fmt.Fprintln(stdout, VersionString(fs.Name()))
		return "", true, nil
	}
	if len(rest) > 0 {
		return "", false, Usagef("unexpected arguments %q; see %s -h", rest, fs.Name())
	}
	if sub != "" && len(subs) == 0 {
		return "", false, Usagef("%s takes no subcommand, got %q", fs.Name(), sub)
	}
	if sub != "" && !slices.Contains(subs, sub) {
		return "", false, Usagef("unknown subcommand %q; want %s (see %s -h)", sub, orList(subs), fs.Name())
	}
	return sub, false, nil
}

// orList writes "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// Parse parses args as [flags] [subcommand [flags] [args]], so that flags
// may come before or after the subcommand. It returns the subcommand ("" for
// the default run) and what follows it.
func Parse(fs *flag.FlagSet, args []string) (sub string, rest []string, err error) {
	if err := fs.Parse(args); err != nil {
		return "", nil, parseErr(err)
	}
	if fs.NArg() == 0 {
		return "", nil, nil
	}
	sub = fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", nil, parseErr(err)
	}
	return sub, fs.Args(), nil
}

func parseErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &UsageError{Msg: err.Error()}
}

// ConfigFailedToSyslog tells syslog (send, runenv.Env.Syslog) that the cron
// run tag cannot read its configuration, at most once an hour (the run at
// minute 0): under a cron that mails nothing its stderr goes nowhere, and
// the rescue would stop unseen (SPEC §8). Once an hour keeps a router's
// small log ring for the rest. Of a file it refused it tells where (file,
// line, key), never what: the line may hold a token (SPEC §9); and nothing
// when the file sets SYSLOG=0.
func ConfigFailedToSyslog(send func(tag, msg string, loc *time.Location), tag string, now time.Time, err error) {
	if send == nil || now.Minute() != 0 {
		return
	}
	what := err.Error()
	var ce *config.Error
	if errors.As(err, &ce) && ce.Err == nil {
		what = ce.Path
		if ce.Line > 0 {
			what += ":" + strconv.Itoa(ce.Line)
		}
		if ce.Key != "" {
			what += ": " + ce.Key
		}
		if b, rerr := state.ReadBoundedFollow(ce.Path, state.MaxConfigBytes); rerr == nil && config.SyslogOff(string(b)) {
			return
		}
	}
	send(tag, "【严重错误】配置无法读取，本次不检测，直到修好 (每小时提醒一次): "+what+"; see: "+tag+" status", Zone())
}

// LoadConfig loads the configuration for role, applying -dry-run. A file
// named with -config must exist (SPEC §15).
func LoadConfig(f Flags, role config.Role) (config.Config, error) {
	opt := config.Options{Euid: os.Geteuid()}
	if f.ConfigSet {
		opt.Required = "-config"
	}
	cfg, err := config.Load(f.Config, role, opt)
	if err != nil {
		return cfg, err
	}
	if f.DryRun && !cfg.DryRun {
		cfg.DryRun, cfg.DryRunFlag = true, true
	}
	return cfg, nil
}

// Lock takes an exclusive lock on runDir/name, runDir being RUN_DIR
// (checked by SecureRunDir first). With wait 0 it does not block: held is
// false when another run holds it. With wait > 0 it waits up to wait for
// the holder (midnight-reset behind a cron run, SPEC §15). The lock file is
// opened without blocking or following a symlink; anything but a regular
// file there is logged as 【严重错误】 with its kind and replaced, so that a
// planted FIFO cannot hang the run. release drops the lock (the file stays:
// creating it once is the only write, and tmpfs is emptied by a reboot).
//
// When the lock file cannot be created because RUN_DIR is read-only or full
// (EROFS, ENOSPC, EDQUOT: a full /tmp is a real router failure), the lock is
// taken on the stateDir directory itself, which creates nothing, and that is
// logged as 【严重错误】: a full /tmp must not block the reboot that would fix
// it (SPEC §15, issue 9 item 10). The rule depends only on whether the lock
// file can exist, so the cron run and midnight-reset always meet on the
// same lock.
func Lock(log *slog.Logger, runDir, stateDir, name string, wait time.Duration) (release func(), held bool, err error) {
	p, f, err := openRunLock(log, runDir, name)
	if err != nil && isNoSpace(err) {
		log.Error("【严重错误】RUN_DIR 无法写入，改用 STATE_DIR 目录加锁", "run_dir", runDir, "reason", err, "lock", stateDir)
		p = stateDir
		f, err = openDirLock(stateDir)
	}
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, true, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, false, fmt.Errorf("lock %s: %w", p, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, false, nil
		}
		time.Sleep(min(100*time.Millisecond, time.Until(deadline)))
	}
}

// isNoSpace reports whether err says the file system cannot take a new
// file: read-only, full, or over quota.
func isNoSpace(err error) bool {
	return errors.Is(err, unix.EROFS) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT)
}

// openRunLock checks RUN_DIR and opens (or creates) the lock file name in
// the directory SecureRunDir chose, replacing whatever non-regular file was
// planted there. p is the lock file's path.
func openRunLock(log *slog.Logger, runDir, name string) (p string, f *os.File, err error) {
	dir, err := SecureRunDir(log, runDir)
	if err != nil {
		return filepath.Join(runDir, name), nil, err
	}
	p = filepath.Join(dir, name)
	f, err = openLockFile(p)
	var ce *state.CorruptError
	if errors.As(err, &ce) {
		log.Error("【严重错误】锁文件不是普通文件，已删除并重建", "file", p, "kind", ce.Kind)
		if rerr := os.RemoveAll(p); rerr != nil {
			return p, nil, fmt.Errorf("remove the %s found there: %w", ce.Kind, rerr)
		}
		f, err = openLockFile(p)
	}
	return p, f, err
}

// openDirLock opens the directory dir for flock: O_DIRECTORY and
// O_NOFOLLOW so that only a real directory is used, and nothing is created
// in it. A missing dir is created first (0700, like STATE_DIR).
func openDirLock(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// openLockFile opens or creates the lock file: O_NONBLOCK so that a FIFO
// does not block the open, O_NOFOLLOW so that a symlink is not followed,
// and fstat so that only a regular file is used (SPEC §15).
func openLockFile(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, &state.CorruptError{Path: p, Kind: "symlink", Reason: "symlink where the lock file was expected"}
	case errors.Is(err, unix.EISDIR):
		return nil, &state.CorruptError{Path: p, Kind: "directory", Reason: "directory where the lock file was expected"}
	case err != nil:
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if kind := state.FileKind(fi.Mode()); kind != "" {
		f.Close()
		return nil, &state.CorruptError{Path: p, Kind: kind, Reason: kind + " where the lock file was expected"}
	}
	return f, nil
}

// PrivateRunDir is the subdirectory a run uses inside a RUN_DIR that others
// may write, such as RUN_DIR=/tmp (on OpenWrt /var is a symlink to /tmp).
const PrivateRunDir = "netrescue"

// RunDir is the directory a run keeps its lock and volatile state in for
// RUN_DIR dir: dir itself, or, when dir is an existing directory of ours
// that group or others may write (/tmp, mode 1777), its subdirectory
// PrivateRunDir. Such a directory is shared: it is never tightened to 0700,
// which turned /tmp into drwx------ and broke every non-root daemon. The
// answer for the subdirectory is the subdirectory itself, so the callers
// may resolve it more than once.
func RunDir(dir string) string {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o022 == 0 {
		return dir
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return dir // another user's: not ours to share, SecureRunDir moves it aside
	}
	return filepath.Join(dir, PrivateRunDir)
}

// SecureRunDir makes sure the directory RunDir(dir) chooses for RUN_DIR
// dir is a directory owned by the running user and not a symlink (SPEC
// §15), and returns it. Anything else found there (another user's
// directory, a symlink, a file) may have been planted to switch the rescue
// off or to make it act: it is logged as 【严重错误】 and replaced by a
// new directory, created 0700, never trusted or followed. A symlink is
// unlinked; anything else is moved aside in its own directory, never
// deleted, so that a RUN_DIR set by mistake to someone's directory loses
// nothing. A directory of ours found there is used as it is: its mode is
// never changed (the run did not create it).
func SecureRunDir(log *slog.Logger, dir string) (string, error) {
	use := RunDir(dir)
	if err := os.MkdirAll(filepath.Dir(use), 0o755); err != nil {
		return use, fmt.Errorf("run dir %s: %w", use, err)
	}
	for range 3 {
		bad, err := runDirProblem(use)
		if err != nil {
			return use, err
		}
		if bad == "" {
			return use, nil
		}
		if bad != "missing" {
			if err := setAside(log, use, bad); err != nil {
				return use, err
			}
		}
		err = os.Mkdir(use, 0o700)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return use, fmt.Errorf("run dir %s: %w", use, err)
		}
		if err == nil && use != dir {
			// Once per boot: the subdirectory is on the tmpfs.
			log.Warn("RUN_DIR 对其他用户可写，改用其中的私有子目录", "run_dir", dir, "dir", use)
		}
		// Checked again: someone may have been quicker than the Mkdir.
	}
	return use, fmt.Errorf("run dir %s: still not a directory of ours after recreating it", use)
}

// setAside clears the path dir of what runDirProblem found there (bad): a
// symlink is unlinked, anything else is renamed to a hidden name beside
// it. It is never deleted: another user's directory may hold their files.
func setAside(log *slog.Logger, dir, bad string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("run dir %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		log.Error("【严重错误】RUN_DIR 不可信，已删除并重建", "dir", dir, "found", bad)
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("run dir %s: remove the %s found there: %w", dir, bad, err)
		}
		return nil
	}
	aside := filepath.Join(filepath.Dir(dir), fmt.Sprintf(".%s.untrusted-%d", filepath.Base(dir), time.Now().UnixNano()))
	if err := os.Rename(dir, aside); err != nil {
		return fmt.Errorf("run dir %s: a %s is there and cannot be moved aside (%w); remove it, or set RUN_DIR to a directory of the running user's", dir, bad, err)
	}
	log.Error("【严重错误】RUN_DIR 不可信，已移开并重建", "dir", dir, "found", bad, "moved_to", aside)
	return nil
}

// runDirProblem describes what is wrong with dir ("" when nothing).
func runDirProblem(dir string) (string, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "missing", nil
	}
	if err != nil {
		return "", fmt.Errorf("run dir %s: %w", dir, err)
	}
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return "symlink", nil
	case !m.IsDir():
		return "not a directory (" + m.Type().String() + ")", nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("directory owned by uid %d", st.Uid), nil
	}
	return "", nil
}

// Zone returns the local zone for timestamps and calendar days (SPEC §8).
func Zone() *time.Location {
	loc, _, err := tz.Load(os.Getenv, ReadSystemFile)
	if err != nil || loc == nil {
		return time.UTC
	}
	return loc
}

// maxSystemFileBytes bounds the system files read (/etc/TZ, a zoneinfo
// file): a zoneinfo file is a few KiB.
const maxSystemFileBytes = 256 << 10

// ReadSystemFile reads a system file such as /etc/TZ or /etc/localtime
// without blocking and bounded (SPEC §15); a symlink, the usual form of
// /etc/localtime, is followed. A FIFO there is an error, not a hang.
func ReadSystemFile(path string) ([]byte, error) {
	return state.ReadBoundedFollow(path, maxSystemFileBytes)
}

// Logger builds the run's logger from cfg: the log file, syslog, and the
// terminal when stderr is one or -v was given (a person debugging by hand,
// SPEC §1). close flushes and closes the file.
func Logger(cfg config.Config, tag string, verbose bool, stderr *os.File, loc *time.Location) (*slog.Logger, func() error) {
	var term io.Writer
	isTTY := logx.IsTerminal(stderr)
	if isTTY || verbose {
		term = stderr
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return logx.New(logx.Options{
		File:     cfg.LogFile,
		MaxBytes: cfg.LogMaxBytes,
		Syslog:   cfg.Syslog,
		Tag:      tag,
		Terminal: term,
		Warn:     stderr,
		Color:    isTTY,
		Level:    level,
		Loc:      loc,
	})
}

// SubArg takes the one argument that follows subcommand sub out of args
// (`pause 2h -v`, `assist dns -reason x`), so that flags after it are still
// parsed and ParseArgs sees no stray argument. newFS returns a fresh flag
// set with the caller's flags; its values are thrown away. Without sub, or
// with nothing after it, args come back as they were and arg is "".
func SubArg(args []string, sub string, newFS func() *flag.FlagSet) (rest []string, arg string) {
	fs := newFS()
	fs.SetOutput(io.Discard) // its usage too
	got, after, err := Parse(fs, args)
	if err != nil || got != sub || len(after) == 0 {
		return args, ""
	}
	// after is a suffix of args: its first element is the argument.
	i := len(args) - len(after)
	return append(args[:i:i], args[i+1:]...), after[0]
}

// Held runs fn under the lock of its side's cron run (runDir/name, as
// Lock), waiting up to wait for a run under way: pause and resume change
// what that run decides, and a run that loaded the state before them
// saved over them (a pause deleted, the router rebooted under it). With
// say (a person's terminal), a wait is said first.
func Held(log *slog.Logger, runDir, stateDir, name string, wait time.Duration, say io.Writer, fn func() error) error {
	release, held, err := Lock(log, runDir, stateDir, name, 0)
	if err == nil && !held {
		if say != nil {
			// A person waits: told why nothing happens yet (up to a few
			// minutes at the defaults).
			fmt.Fprintf(say, "waiting up to %v for the %s run under way to finish...\n", wait, strings.TrimSuffix(name, ".lock"))
		}
		// The first try said what it found (a RUN_DIR that cannot take
		// the lock file, a FIFO replaced): said once, not again.
		release, held, err = Lock(slog.New(slog.DiscardHandler), runDir, stateDir, name, wait)
	}
	if err != nil {
		return err
	}
	if !held {
		return fmt.Errorf("a run under way held %s for %v: try again in a minute", name, wait)
	}
	defer release()
	return fn()
}

// Pause starts maintenance mode until now+d (SPEC §16), on either side:
// the pause file in stateDir, 【暂停】 in the log, a line for the person.
// pre leads the log lines: 【演练】 for a dry run's own state dir.
func Pause(log *slog.Logger, stdout io.Writer, stateDir, pre string, now time.Time, d time.Duration) error {
	until := now.Add(d)
	if err := pause.Write(stateDir, until); err != nil {
		log.Error(pre+"【严重错误】无法进入维护模式", "err", err)
		return err
	}
	log.Warn(pre+"【暂停】维护模式开始：只检测和记录，不执行任何动作。", "until", until.Format("2006-01-02 15:04"), "for", d.String())
	fmt.Fprintf(stdout, "paused until %s: probing and logging go on, no action; `resume` ends it now\n", until.Format("2006-01-02 15:04"))
	return nil
}

// Resume ends maintenance mode now (SPEC §16); pre as for Pause. With no
// pause it says so and changes nothing. With endAt (the router: now) a
// pause, under way or run out but not yet ended by a run, is not removed
// but ends by endAt: the next run ends it as one that ran out, logs
// 【恢复自救】 and starts the router's ladder over from L1 (its streak
// climbed while paused: kept, the next run would jump to an L3); logged
// here as well, the pause's end would be told twice. The rename replaces
// the file at once, so no run sees it gone in between. With endAt zero
// (the host, which keeps no streak) the file goes and 【恢复自救】 is
// logged at once.
func Resume(log *slog.Logger, stdout io.Writer, stateDir, pre string, endAt time.Time) error {
	if _, err := os.Lstat(pause.Path(stateDir)); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintln(stdout, "no pause under way: the rescue already acts")
		return nil
	}
	var err error
	until, _ := pause.Read(stateDir, endAt)
	router := !endAt.IsZero() && !until.IsZero()
	if router {
		if until.Before(endAt) {
			endAt = until
		}
		err = pause.Write(stateDir, endAt)
	} else {
		err = pause.Clear(stateDir)
	}
	if err != nil {
		log.Error(pre+"【严重错误】无法结束维护模式", "err", err)
		return err
	}
	if router {
		fmt.Fprintln(stdout, "resumed: the next run ends the pause (【恢复自救】) and starts the ladder from L1")
		return nil
	}
	log.Info(pre + "【恢复自救】维护模式已结束，恢复自救。")
	fmt.Fprintln(stdout, "resumed: the rescue acts again from the next run")
	return nil
}

// PauseFor reads the DURATION of `pause` (SPEC §16) as a usage error when
// it is missing or wrong; 0 for another subcommand.
func PauseFor(sub, arg string) (time.Duration, error) {
	if sub != "pause" {
		return 0, nil
	}
	if arg == "" {
		return 0, Usagef("pause: want a duration such as 30m or 2h")
	}
	d, err := pause.ParseDuration(arg)
	if err != nil {
		return 0, Usagef("%v", err)
	}
	return d, nil
}
