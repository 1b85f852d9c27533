package logx

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/lmittmann/tint"
)

// defaultSyslogAddr is where OpenWrt's logd and systemd's journal listen.
const defaultSyslogAddr = "/dev/log"

// syslogTimeout bounds the connect and each send: a wedged syslog daemon
// with a full socket queue must not hang a cron run.
const syslogTimeout = time.Second

// Syslog priorities (RFC 3164). Our records come from cron jobs, so they go
// to the daemon facility: `logread` shows them as daemon.err, daemon.info….
const (
	facilityDaemon = 3 << 3

	prioErr     = 3
	prioWarning = 4
	prioInfo    = 6
	prioDebug   = 7
)

// syslogConn is a connection to the local syslog daemon, dialled on the
// first record. It speaks the local form of the protocol the C library's
// syslog(3) uses, "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG", which both logd and
// the journal parse. It is written here rather than taken from log/syslog
// because that package uses the network form (with hostname) for any
// address but its own default, so a test socket would not see what /dev/log
// sees, and because it sets no write deadline.
type syslogConn struct {
	addr string
	tag  string
	loc  *time.Location

	mu   sync.Mutex
	conn net.Conn
	dead bool // dial or send failed: syslog is skipped for this run
}

// send delivers msg at priority pri, or silently does nothing if syslog is
// unreachable (SPEC §8: a run never fails for its syslog).
func (s *syslogConn) send(pri int, msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return
	}
	if s.conn == nil {
		c, err := net.DialTimeout("unixgram", s.addr, syslogTimeout)
		if err != nil {
			s.dead = true
			return
		}
		s.conn = c
	}
	now := time.Now()
	line := fmt.Appendf(nil, "<%d>%s %s[%d]: %s",
		facilityDaemon|pri, now.In(s.loc).Format(time.Stamp), s.tag, os.Getpid(), msg)
	_ = s.conn.SetWriteDeadline(now.Add(syslogTimeout))
	if _, err := s.conn.Write(line); err != nil {
		s.dead = true
		_ = s.conn.Close()
		s.conn = nil
	}
}

// SyslogError sends msg to the syslog daemon at addr ("" for /dev/log) at
// daemon.err, tagged tag, stamped in loc (the run's zone, as every line:
// SPEC §8), within syslogTimeout; an unreachable daemon is no error. It is
// for what must be told before a Logger exists: a configuration a cron run
// cannot read.
func SyslogError(addr, tag, msg string, loc *time.Location) {
	if addr == "" {
		addr = defaultSyslogAddr
	}
	c := &syslogConn{addr: addr, tag: tag, loc: loc}
	c.send(prioErr, []byte(msg))
	_ = c.Close()
}

// Close closes the connection if one was made.
func (s *syslogConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	if err != nil {
		return fmt.Errorf("close syslog %s: %w", s.addr, err)
	}
	return nil
}

// priorityWriter sends each write, one formatted record, at one priority.
type priorityWriter struct {
	conn *syslogConn
	pri  int
}

func (w priorityWriter) Write(p []byte) (int, error) {
	w.conn.send(w.pri, p)
	return len(p), nil
}

// syslogHandler formats a record as "message key=value…" (the file's line
// without time and level: syslog adds its own time, and the level becomes
// the priority) and sends it at the priority of its level.
//
// tint writes to a fixed writer, so there is one tint handler per priority;
// WithAttrs and WithGroup are applied to all four.
type syslogHandler struct {
	byPri [4]slog.Handler // indexed by priorityIndex
}

func newSyslogHandler(conn *syslogConn, level slog.Level) *syslogHandler {
	h := &syslogHandler{}
	for i, pri := range [...]int{prioErr, prioWarning, prioInfo, prioDebug} {
		h.byPri[i] = tint.NewTextHandler(priorityWriter{conn: conn, pri: pri}, &tint.Options{
			Level:       level,
			NoColor:     true,
			ReplaceAttr: dropLevel,
		})
	}
	return h
}

// dropLevel removes the built-in level from the text. An attribute of
// ours that happens to be called "level" (say level=L2) holds a string,
// not a slog.Level, and stays.
func dropLevel(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if _, ok := a.Value.Any().(slog.Level); ok {
			return slog.Attr{}
		}
	}
	return a
}

// priorityIndex maps a level to its handler: Error and above to LOG_ERR,
// Warn to LOG_WARNING, Info to LOG_INFO, anything lower to LOG_DEBUG.
func priorityIndex(level slog.Level) int {
	switch {
	case level >= slog.LevelError:
		return 0
	case level >= slog.LevelWarn:
		return 1
	case level >= slog.LevelInfo:
		return 2
	default:
		return 3
	}
}

func (h *syslogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.byPri[0].Enabled(ctx, level)
}

func (h *syslogHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{} // tint writes no time for a zero time
	return h.byPri[priorityIndex(r.Level)].Handle(ctx, r)
}

func (h *syslogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := &syslogHandler{}
	for i, d := range h.byPri {
		h2.byPri[i] = d.WithAttrs(attrs)
	}
	return h2
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	h2 := &syslogHandler{}
	for i, d := range h.byPri {
		h2.byPri[i] = d.WithGroup(name)
	}
	return h2
}
