// Package logx builds the project's slog logger (SPEC §8): one record goes
// to the log file, to syslog and to the terminal, each optional.
//
// The log file has lines
//
//	2024-01-16 00:00:00 INF 【报警】网络断开 (第 3 次失败)。 streak=3
//
// written by tint without colour, in the local zone of internal/tz. It is
// opened lazily, so a healthy run that logs nothing does not create or touch
// it, and it is capped by renaming it to FILE.1 once it has grown past
// Options.MaxBytes. Syslog gets the same "message key=value" text without
// time or level (the level becomes the syslog priority). The terminal gets
// the file's format, coloured if asked.
//
// Logging never fails a run: a log file that cannot be written is reported
// once on the terminal (or stderr) and then left alone, and an unreachable
// syslog is skipped silently.
package logx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/sys/unix"
)

// TimeFormat is the layout of the time at the start of every line.
const TimeFormat = "2006-01-02 15:04:05"

// Options says where records go. The zero value logs nothing.
type Options struct {
	// File is the log file; "" means no file.
	File string
	// MaxBytes caps File: a run whose first write finds the file at least
	// this big renames it to File+".1" first. 0 or less means no cap.
	MaxBytes int64
	// Syslog also sends every record to the local syslog daemon.
	Syslog bool
	// Tag is the syslog tag, e.g. "netcheck"; "" means the program name.
	Tag string
	// SyslogAddr is the syslog daemon's unix datagram socket; "" means
	// /dev/log (OpenWrt's logd, the journal on PVE). Tests point it at a
	// socket of their own.
	SyslogAddr string
	// Terminal receives the records for a person watching, usually
	// os.Stderr; nil means no terminal output. It also receives the one
	// report of a log file that cannot be written, unless Warn is set.
	Terminal io.Writer
	// Warn receives the one report of a log file that cannot be written
	// when there is no Terminal (cron mails it); nil means os.Stderr.
	Warn io.Writer
	// Color colours the terminal output; see IsTerminal.
	Color bool
	// Level is the minimum level logged (slog.LevelDebug with -v). The file
	// and syslog never take debug lines: a healthy run, even by hand with
	// -v, leaves no trace in them.
	Level slog.Level
	// Loc is the zone of the times written; nil means time.Local. Pass the
	// zone from tz.Load: on OpenWrt time.Local is UTC by accident.
	Loc *time.Location
}

// New returns the logger described by o and a function that closes the log
// file and the syslog connection, if they were opened.
func New(o Options) (*slog.Logger, func() error) {
	loc := o.Loc
	if loc == nil {
		loc = time.Local
	}
	fan := &fanout{level: o.Level, loc: loc}
	persistent := max(o.Level, slog.LevelInfo)
	var closers []func() error

	if o.File != "" {
		warn := o.Terminal
		if warn == nil {
			warn = o.Warn
		}
		if warn == nil {
			warn = os.Stderr
		}
		f := &lazyFile{path: o.File, maxBytes: o.MaxBytes, warn: warn}
		closers = append(closers, f.Close)
		fan.handlers = append(fan.handlers, tint.NewTextHandler(f, &tint.Options{
			Level:      persistent,
			TimeFormat: TimeFormat,
			NoColor:    true,
		}))
	}
	if o.Syslog {
		tag := o.Tag
		if tag == "" {
			tag = filepath.Base(os.Args[0])
		}
		addr := o.SyslogAddr
		if addr == "" {
			addr = defaultSyslogAddr
		}
		s := &syslogConn{addr: addr, tag: tag, loc: loc}
		closers = append(closers, s.Close)
		fan.handlers = append(fan.handlers, newSyslogHandler(s, persistent))
	}
	if o.Terminal != nil {
		fan.handlers = append(fan.handlers, tint.NewTextHandler(o.Terminal, &tint.Options{
			Level:      o.Level,
			TimeFormat: TimeFormat,
			NoColor:    !o.Color,
		}))
	}

	closeAll := func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	return slog.New(fan), closeAll
}

// fanout is the one handler of the logger: it puts the record's time into
// the local zone and hands the record to every destination.
type fanout struct {
	level    slog.Level
	loc      *time.Location
	handlers []slog.Handler
}

// Enabled reports whether any destination wants records of level.
func (h *fanout) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level && len(h.handlers) > 0
}

// Handle sends r to every destination. A destination's failure does not
// keep the record from the others; the errors are joined, though slog's
// Logger ignores them anyway (the destinations report their own).
func (h *fanout) Handle(ctx context.Context, r slog.Record) error {
	if !r.Time.IsZero() {
		r.Time = r.Time.In(h.loc)
	}
	var errs []error
	for _, d := range h.handlers {
		if d.Enabled(ctx, r.Level) {
			errs = append(errs, d.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

// WithAttrs returns a fanout whose destinations all carry attrs.
func (h *fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.derive(func(d slog.Handler) slog.Handler { return d.WithAttrs(attrs) })
}

// WithGroup returns a fanout whose destinations all open group name.
func (h *fanout) WithGroup(name string) slog.Handler {
	return h.derive(func(d slog.Handler) slog.Handler { return d.WithGroup(name) })
}

func (h *fanout) derive(f func(slog.Handler) slog.Handler) *fanout {
	h2 := &fanout{level: h.level, loc: h.loc, handlers: make([]slog.Handler, len(h.handlers))}
	for i, d := range h.handlers {
		h2.handlers[i] = f(d)
	}
	return h2
}

// IsTerminal reports whether f is a terminal, the condition for colour
// (STYLE: no colour when stderr is not a TTY). It asks the tty driver for
// the terminal settings, which only a terminal has.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// sizeUnits are the units ParseSize knows, upper-cased. K, M and G alone
// and the IEC forms (KiB…) are powers of 1024, as sizes of files usually
// are; KB, MB and GB are the SI powers of 1000, as in `df -H`.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KI": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
	"M": 1 << 20, "MI": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
	"G": 1 << 30, "GI": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
}

// errSize names what a size may look like; it ends every ParseSize error.
var errSize = errors.New("want a whole number of bytes, optionally followed by " +
	"K, KiB, M, MiB, G, GiB (powers of 1024) or KB, MB, GB (powers of 1000), e.g. 256KiB")

// ParseSize reads a byte count such as "1048576", "256KiB", "64k", "2M",
// "1 MiB" or "5MB". Units are case-insensitive; K, M, G and KiB, MiB, GiB
// are powers of 1024, KB, MB, GB are powers of 1000. Fractions, signs and
// sizes beyond int64 are errors.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: %w", s, errSize)
	}
	mult, ok := sizeUnits[asciiUpper(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("size %q: %w", s, errSize)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: larger than %d bytes", s, int64(math.MaxInt64))
	}
	return n * mult, nil
}

// asciiUpper upper-cases ASCII letters only: strings.ToUpper would also
// turn a Turkish dotless ı into I and so accept "1kıb".
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
