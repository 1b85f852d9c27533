// Package assist is the contract between the host and `netcheck assist`
// (SPEC §14): the host, which stands on the LAN, sees faults the router
// cannot see from itself (a dead DNS forwarder, broken forwarding or NAT)
// and asks the router over SSH to take one step with its own configured
// command:
//
//	netcheck -config FILE assist dns|network|reboot [-reason TEXT]
//
// The router answers with an exit status and one result line on stdout,
// both defined here so that the host parses exactly what the router writes:
//
//	exit 0  done     the step's command ran and succeeded
//	exit 3  refused  nothing was run: a reboot under cooling, SAFE_UPTIME or
//	                 the day's limit, SOS raised, another run holding the
//	                 lock, or a dry run; the line says which
//	exit 1  failed   the command ran and failed, or the state could not be
//	                 saved (so no reboot was risked)
//	exit 2  usage    a wrong step or flag, or a configuration error; there
//	                 is no result line, stderr says what is wrong
//
// A reboot that succeeds ends the SSH session instead of printing a line.
package assist

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Exit statuses of `netcheck assist`. ExitUsage is also what every binary
// returns for a usage or configuration error (SPEC §7).
const (
	ExitDone    = 0
	ExitFailed  = 1
	ExitUsage   = 2
	ExitRefused = 3
)

// Step is what the host asks the router to do.
type Step string

// The steps, in the order the host tries them (SPEC §14).
const (
	DNS     Step = "dns"     // DNS_CMD: restart the DNS forwarder
	Network Step = "network" // L2_CMD: restart network and firewall
	Reboot  Step = "reboot"  // L3_CMD: reboot the router, counted as an L3
)

// Steps lists the steps in the order the host tries them.
var Steps = []Step{DNS, Network, Reboot}

// ParseStep reads a step named on the command line.
func ParseStep(s string) (Step, error) {
	for _, st := range Steps {
		if s == string(st) {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown assist step %q; want dns, network or reboot", s)
}

// Outcome is the result of an assist request.
type Outcome string

// The outcomes, one per exit status.
const (
	Done    Outcome = "done"
	Refused Outcome = "refused"
	Failed  Outcome = "failed"
)

// Why a request was refused or failed: one word the host may branch on.
const (
	WhySOS        = "sos"         // SOS is raised: the router stopped rescuing itself
	WhyCooling    = "cooling"     // a reboot under the cooling deadline
	WhySafeUptime = "safe-uptime" // a reboot before SAFE_UPTIME
	WhyLimit      = "limit"       // a reboot would reach L4_SOS_THRESHOLD
	WhyBusy       = "busy"        // another run held the lock for LockWait
	WhyDryRun     = "dry-run"     // DRY_RUN: decided and logged, not run
	WhyPause      = "pause"       // maintenance mode (netcheck pause, SPEC §16)
	WhyCommand    = "command"     // the command exited non-zero or timed out
	WhyState      = "state"       // the state could not be saved or the lock taken
)

// MaxReason bounds the host's reason kept in the router's log (escaped
// with internal/untrusted: it is text from another machine).
const MaxReason = 200

// ActionTimeout bounds the step's command, as it bounds a cron run's
// L1/L2/L3 (a network restart on a slow router takes tens of seconds).
const ActionTimeout = 2 * time.Minute

// LockExtra is how long, beyond PROBE_TIMEOUT, a request waits for a cron
// run that holds the lock: a probe and an L1 (ifdown, 10 s, ifup).
const LockExtra = 15 * time.Second

// LockWait is how long a request waits for the run lock.
func LockWait(probeTimeout time.Duration) time.Duration { return probeTimeout + LockExtra }

// MaxDuration bounds a whole request on the router: the wait for the lock,
// then the command. The host's SSH call should allow this much (plus its
// own connection time) before it gives up.
func MaxDuration(probeTimeout time.Duration) time.Duration {
	return LockWait(probeTimeout) + ActionTimeout + 5*time.Second
}

// Prefix starts the result line.
const Prefix = "netrescue-assist"

// Result is what the router answers.
type Result struct {
	Step    Step
	Outcome Outcome
	Why     string // "" when done; one of the Why* words otherwise
	Detail  string // for a person: "cooling until 2026-11-25 13:00:00"
}

// ExitCode is the exit status that goes with the result.
func (r Result) ExitCode() int {
	switch r.Outcome {
	case Done:
		return ExitDone
	case Refused:
		return ExitRefused
	}
	return ExitFailed
}

// Line is the result line written to stdout, for example
//
//	netrescue-assist step=reboot result=refused why=cooling detail="cooling until 2026-11-25 13:00:00"
//
// Detail is quoted with Go's strconv.Quote, so the line is one line of
// printable text whatever it holds.
func (r Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s step=%s result=%s", Prefix, r.Step, r.Outcome)
	if r.Why != "" {
		fmt.Fprintf(&b, " why=%s", r.Why)
	}
	fmt.Fprintf(&b, " detail=%s", strconv.QuoteToASCII(r.Detail))
	return b.String()
}

// Error is a Result that is not done, as an error for the command's exit.
type Error struct{ Result Result }

func (e *Error) Error() string {
	msg := fmt.Sprintf("assist %s %s", e.Result.Step, e.Result.Outcome)
	if e.Result.Why != "" {
		msg += " (" + e.Result.Why + ")"
	}
	if e.Result.Detail != "" {
		msg += ": " + e.Result.Detail
	}
	return msg
}

// ExitCode is the exit status of the request.
func (e *Error) ExitCode() int { return e.Result.ExitCode() }

// ErrNoLine means the output holds no result line: the router's binary is
// too old to know assist, or the session ended before it answered (a
// reboot that worked ends it).
var ErrNoLine = errors.New("no " + Prefix + " line in the router's answer")

// Parse finds the last result line in out (the router's stdout) and reads
// it. The host treats everything it reads as untrusted: the fields are
// checked, and Detail comes back unquoted but must still be escaped
// before it reaches a log line.
func Parse(out string) (Result, error) {
	var line string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, Prefix+" ") {
			line = l
		}
	}
	if line == "" {
		return Result{}, ErrNoLine
	}
	return parseLine(line)
}

func parseLine(line string) (Result, error) {
	rest := strings.TrimPrefix(line, Prefix+" ")
	var r Result
	seen := map[string]bool{}
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return Result{}, fmt.Errorf("assist result %q: want key=value", line)
		}
		if seen[key] {
			return Result{}, fmt.Errorf("assist result %q: %s twice", line, key)
		}
		seen[key] = true
		var val string
		if key == "detail" {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return Result{}, fmt.Errorf("assist result %q: detail: %w", line, err)
			}
			if val, err = strconv.Unquote(q); err != nil {
				return Result{}, fmt.Errorf("assist result %q: detail: %w", line, err)
			}
			after = after[len(q):]
			if after != "" && after[0] != ' ' {
				return Result{}, fmt.Errorf("assist result %q: text after detail", line)
			}
		} else {
			val, after, _ = strings.Cut(after, " ")
		}
		rest = strings.TrimPrefix(after, " ")
		switch key {
		case "step":
			st, err := ParseStep(val)
			if err != nil {
				return Result{}, fmt.Errorf("assist result %q: %w", line, err)
			}
			r.Step = st
		case "result":
			switch o := Outcome(val); o {
			case Done, Refused, Failed:
				r.Outcome = o
			default:
				return Result{}, fmt.Errorf("assist result %q: unknown result %q", line, val)
			}
		case "why":
			if val == "" || strings.IndexFunc(val, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c == '-') }) >= 0 {
				return Result{}, fmt.Errorf("assist result %q: why %q is not a word", line, val)
			}
			r.Why = val
		case "detail":
			r.Detail = val
		}
		// Unknown keys are skipped: a newer router may say more.
	}
	if r.Step == "" || r.Outcome == "" {
		return Result{}, fmt.Errorf("assist result %q: want step= and result=", line)
	}
	return r, nil
}
