// Package cli holds what netcheck, hostcheck and midnight-reset share at
// their edges: the common flags, exit codes, the run lock and the logger
// built from the configuration (SPEC §7, §8).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pve-op/network-rescue/internal/config"
	"github.com/pve-op/network-rescue/internal/logx"
	"github.com/pve-op/network-rescue/internal/tz"
)

// Exit statuses (SPEC §7).
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Version is set at link time (-X); otherwise the module's build info is used.
var Version = ""

// VersionString describes the binary for -version.
func VersionString(name string) string {
	v := Version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v = "devel-" + s.Value[:12]
				}
			}
		}
	}
	return name + " " + v
}

// UsageError is a mistake on the command line: exit 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
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
	if f.DryRun {
		cfg.DryRun = true
	}
	return cfg, nil
}

// Lock takes a non-blocking exclusive lock on dir/name. held is false when
// another run holds it. release drops it (the file stays: creating it
// once is the only write, and tmpfs is emptied by a reboot anyway).
func Lock(dir, name string) (release func(), held bool, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, fmt.Errorf("lock dir: %w", err)
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() { f.Close() }, true, nil
}

// Zone returns the local zone for timestamps and calendar days (SPEC §8).
func Zone() *time.Location {
	loc, _, err := tz.Load(os.Getenv, os.ReadFile)
	if err != nil || loc == nil {
		return time.UTC
	}
	return loc
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
		Color:    isTTY,
		Level:    level,
		Loc:      loc,
	})
}
