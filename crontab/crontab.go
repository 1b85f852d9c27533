// Package crontab knows the cron lines that run the rescue (SPEC §0, §10):
// which lines a side needs, how to merge them into a crontab that also holds
// other people's lines, how to take them out again, and how to recognise the
// lines of the original shell scripts that the installer migrates from.
//
// Our lines are the ones that end in Marker. Everything else in a crontab is
// somebody else's and is kept byte for byte. The installer (internal/install,
// run by scripts/install.sh) and `status` use this package; it is the only
// copy of these rules.
package crontab

import (
	"slices"
	"strings"
)

// Role is the side of the rescue a crontab belongs to: "router" or "host".
type Role string

// The two sides (SPEC §0).
const (
	Router Role = "router"
	Host   Role = "host"
)

// Marker ends every cron line that the installer owns.
const Marker = "# netrescue"

// Lines returns our cron lines for role, in the order the installer writes
// them (SPEC §0, §10). An unknown role has none. Not inlined, to keep the
// router's netcheck small (SPEC §12), as group.end in probe.
//
//go:noinline
func Lines(role Role) []string {
	switch role {
	case Router:
		return []string{
			"* * * * * /usr/bin/netcheck " + Marker,
			"0 0 * * * /usr/bin/midnight-reset " + Marker,
		}
	case Host:
		return []string{
			"*/5 * * * * /usr/local/bin/hostcheck " + Marker,
			"@reboot /usr/local/bin/hostcheck boot " + Marker,
			"0 0 * * * /usr/local/bin/midnight-reset " + Marker,
		}
	}
	return nil
}

// IsOurs reports whether line (with or without its newline) is one of ours:
// it ends in Marker, trailing blanks and a carriage return aside.
func IsOurs(line string) bool {
	line = strings.TrimSuffix(line, "\n")
	return strings.HasSuffix(strings.TrimRight(line, " \t\r"), Marker)
}

// Merge returns existing with our lines for role in it, exactly once each.
// Our stale lines (any line ending in Marker that runs none of our
// programs) are dropped, and so is a copy of one of our lines without
// Marker (isLine; with its output redirected too): kept, it would run
// beside ours. The
// fresh lines take the place of the first of them, or go at the end when
// there was none. A line of ours that the user edited (marked, running
// the program of one of our lines: "-config FILE", "nice") is kept where
// it is, and our line is not added beside it: ours have never changed, so
// it is no stale line of ours (Edited names it). A line of ours that the
// user commented out stays so, and is not added again (Disabled names
// it). Every other line is kept as it was. The result ends with a
// newline, as cron requires, and Merge(Merge(x, r), r) == Merge(x, r).
func Merge(existing string, role Role) string {
	segs := segments(existing)
	var fresh []string
	for _, l := range Lines(role) {
		if len(disabled(segs, l)) == 0 && !editedOnly(segs, l, role) {
			fresh = append(fresh, l)
		}
	}
	var b strings.Builder
	inserted := false
	for _, seg := range segs {
		if (IsOurs(seg) && !commented(seg) && !edited(seg, role)) || isLine(seg, role) {
			if !inserted {
				writeLines(&b, fresh)
				inserted = true
			}
			continue
		}
		b.WriteString(seg)
	}
	if !inserted {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		writeLines(&b, fresh)
	}
	out := b.String()
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// edited reports whether seg is an active line of ours (marked) that runs
// the program of one of our lines for role without being it: the user's
// edit of it. It names the program by our line's path: a bare name is
// found in cron's PATH, which on Debian lacks /usr/local/bin (the host's
// "sleep 20; hostcheck" never ran), and is no line of ours to keep. Not
// inlined: each copy costs the router's netcheck (SPEC §12: ≤ 5 MiB).
//
//go:noinline
func edited(seg string, role Role) bool {
	if !IsOurs(seg) || commented(seg) || isLine(seg, role) {
		return false
	}
	for _, l := range Lines(role) {
		if runsSame(seg, l, true) {
			return true
		}
	}
	return false
}

// Runs reports whether a line of existing that is not commented out runs
// what line (one of ours) runs, marked ours or not.
func Runs(existing, line string) bool {
	for _, seg := range segments(existing) {
		if !commented(seg) && runsSame(seg, line, false) {
			return true
		}
	}
	return false
}

// editedOnly reports whether segs run line only through an edited line of
// ours: Merge adds no line beside it. (With our line there too, both stay.)
func editedOnly(segs []string, line string, role Role) bool {
	found := false
	for _, seg := range segs {
		if cronKey(seg) == cronKey(line) {
			return false
		}
		found = found || edited(seg, role) && runsSame(seg, line, false)
	}
	return found
}

// Edited returns the lines of existing, without their newlines, that are
// our lines for role as the user edited them (Merge keeps them): the
// installer says so. With role "", those that are ours and run (marked,
// not commented out), which the installer lists.
func Edited(existing string, role Role) (out []string) {
	for _, seg := range segments(existing) {
		if role == "" && IsOurs(seg) && !commented(seg) || role != "" && edited(seg, role) {
			out = append(out, strings.TrimSuffix(seg, "\n"))
		}
	}
	return out
}

// Remove returns existing without our lines; every other byte is kept,
// including a last line without a newline.
func Remove(existing string) string { return removeLines(existing, IsOurs) }

// Check returns those of our lines for role that existing lacks, in the
// order of Lines; `status` names them. A line counts as present when it is
// there exactly, trailing blanks and a carriage return aside, with or
// without Marker (the lines a person wrote by hand run as well), or as an
// edited line of ours that runs its program (Merge keeps it).
func Check(existing string, role Role) (missing []string) {
	segs := segments(existing)
	for _, l := range Lines(role) {
		have := false
		for _, seg := range segs {
			have = have || cronKey(seg) == cronKey(l) || edited(seg, role) && runsSame(seg, l, false)
		}
		if !have {
			missing = append(missing, l)
		}
	}
	return missing
}

// cronKey is line as Check compares it: without its newline, trailing
// blanks, a carriage return and Marker.
func cronKey(line string) string {
	line = strings.TrimRight(strings.TrimSuffix(line, "\n"), " \t\r")
	return strings.TrimRight(strings.TrimSuffix(line, Marker), " \t")
}

// commented reports whether seg is a comment.
func commented(seg string) bool { return strings.HasPrefix(strings.TrimLeft(seg, " \t"), "#") }

// disabled returns the lines of segs that turn line off: marked ours and
// commented out with a #, they run its program, however edited
// ("#\t* * * * * /usr/bin/netcheck -v # netrescue"), when no line of segs
// runs it.
func disabled(segs []string, line string) (off []string) {
	for _, seg := range segs {
		switch {
		case cronKey(seg) == cronKey(line), !commented(seg) && runsSame(seg, line, !IsOurs(seg)):
			// It runs, or an edited copy of ours (or the owner's own
			// line for it) runs it, which Merge puts ours in the place
			// of or keeps: commenting out the old line and editing a
			// copy below is no disabling.
			return nil
		case commented(seg) && IsOurs(seg) && runsSame(strings.TrimLeft(seg, "# \t"), line, false):
			off = append(off, strings.TrimSuffix(seg, "\n"))
		}
	}
	return off
}

// Disabled returns the lines of existing that turn one of our lines for
// role off: that line, commented out (Merge keeps them so). The installer
// says the rescue is disabled, and how to turn it on again.
func Disabled(existing string, role Role) (off []string) {
	for _, l := range Lines(role) {
		off = append(off, DisabledLine(existing, l)...)
	}
	return off
}

// DisabledLine is Disabled for the one line of ours, line: the installer
// asks it of the rescue's main line, `status` of each line it lacks.
func DisabledLine(existing, line string) []string { return disabled(segments(existing), line) }

// runsSame reports whether the cron line seg runs what our line does: one
// of its simple commands (through sh -c, nohup, nice, env, flock and the
// other wrappers) is line's program, by its path or its bare name found in
// PATH ("nice -n 10 /usr/bin/netcheck>/dev/null", "sleep 20;hostcheck";
// not a stale line's other path, nor "logger -t hostcheck"), with "boot"
// among its arguments exactly when line has it (hostcheck's @reboot
// line, beside its run every five minutes). Strict, seg names the program
// by its path, and an unmarked seg (the owner's own line) is our line with
// its output redirected and nothing else (isLine: a copy): "netcheck
// -dry-run", an hourly schedule or "netcheck; /root/sync.sh" are other
// jobs.
func runsSame(seg, line string, strict bool) bool {
	ourCmd, ok1 := cronCommand(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), Marker)))
	cmd, ok2 := cronCommand(strings.TrimLeft(strings.TrimSuffix(strings.TrimRight(strings.TrimSuffix(seg, "\n"), " \t\r"), Marker), " \t"))
	if !ok1 || !ok2 {
		return false
	}
	ours := strings.Fields(ourCmd)
	args, found := runsProgram(cmd, ours[0], 0)
	if strict {
		if IsOurs(seg) {
			found = found && strings.Contains(seg, ours[0])
		} else {
			// Our schedule and command, and nothing else run; blanks
			// between fields are blanks, tabs or several.
			c := simpleCommands(cmd)
			found = found && len(c) == 1 && len(c[0].words) == len(ours) && strings.HasPrefix(strings.Join(strings.Fields(seg), " "), line[:len(line)-len(Marker)])
		}
	}
	// The program's own arguments only: "hostcheck -config FILE boot".
	return found && slices.Contains(args, "boot") == slices.Contains(ours[1:], "boot")
}

// runsProgram reports whether the shell command line cmd runs prog (its
// path, or its bare name), and with what arguments.
func runsProgram(cmd, prog string, depth int) ([]string, bool) {
	if depth > maxShellDepth {
		return nil, false
	}
	for _, c := range simpleCommands(cmd) {
		if args, ok := runsWords(c.words, prog, depth); ok {
			return args, true
		}
	}
	return nil, false
}

func runsWords(words []string, prog string, depth int) ([]string, bool) {
	for len(words) > 0 && (isAssignment(words[0]) || shellKeyword(words[0])) {
		words = words[1:]
	}
	if len(words) == 0 {
		return nil, false
	}
	name, args := words[0], words[1:]
	if name == prog || name == base(prog) || strings.HasPrefix(name, ".") && base(name) == base(prog) {
		return args, true // its path, its bare name, or a relative path to it (cd /usr/bin && ./netcheck)
	}
	switch base(name) {
	case "nohup", "exec", "command":
		return runsWords(args, prog, depth)
	case "setsid", "nice", "ionice", "env", "timeout", "flock", "stdbuf", "chrt", "taskset", "sudo", "screen", "busybox":
		if w, c := wrapped(base(name), args); c != "" {
			return runsProgram(c, prog, depth+1)
		} else if len(w) > 0 {
			return runsWords(w, prog, depth)
		}
	case "sh", "bash", "ash", "dash":
		if cmd, _ := shellArgs(args); cmd != "" {
			return runsProgram(cmd, prog, depth+1)
		}
	}
	return nil, false
}

// isLine reports whether seg is one of our lines for role, with or
// without Marker, as Check counts it, or the owner's copy of one that only
// redirects its output ("* * * * * /usr/bin/netcheck >/dev/null 2>&1"):
// Merge replaces it by ours, or it ran beside ours, twice a minute, the
// ladder climbing twice as fast.
func isLine(seg string, role Role) bool {
	for _, l := range Lines(role) {
		if cronKey(seg) == cronKey(l) || !IsOurs(seg) && !commented(seg) && runsSame(seg, l, true) {
			return true
		}
	}
	return false
}

// legacyScript reports whether name is one of the original scripts (SPEC
// §2): the router's procd service, its loop and the host's @reboot loop,
// under every name they were installed as. (Switches, not maps: no map is
// built at every start of netcheck, SPEC §12.)
func legacyScript(name string) bool {
	switch name {
	case "network_monitor", "network_monitor.sh", "network_monitor_logic.sh", "pve_host_monitor.sh":
		return true
	}
	return false
}

// legacyState reports whether name is one of the original scripts' state
// files that their midnight cron lines reset: the router's count, cooling
// deadline and SOS flag and the host's daily mark. (Not inlined: its
// switch compiled into each caller took 288 bytes of netcheck's text.)
//
//go:noinline
func legacyState(name string) bool {
	switch name {
	case "net_rb_count", "net_cooling_ts", "SOS_SYSTEM", "pve_did_reboot_today":
		return true
	}
	return false
}

// What a cron line or command is to the original scripts (legacyKind).
const (
	notLegacy   = iota // the user's: runs none of them
	legacyAll          // theirs: every command runs them, resets their state or only helps
	legacyMixed        // theirs and the user's commands on one line
	helper             // a command of neither that only helps (cd, sleep, a test, an echo)
)

// IsLegacy reports whether line is an active cron line of the original
// scripts (SPEC §10: the migration removes "their cron lines", every other
// line stays): one whose every command runs one of them (a command whose
// base name is one of the scripts, or such a script given to sh, bash,
// ash or nohup) or resets their state (an rm of a state file, or a
// redirection into one), or only helps those (cd, sleep, a test, an
// echo). A line that only reads those files, such as a copy of
// network_monitor.log or a test for pve_did_reboot_today, is the user's;
// one that also runs a command of the user's is mixed (Mixed). Comments,
// variable settings and our own lines never are.
func IsLegacy(line string) bool { return legacyKind(line) == legacyAll }

// Mixed returns the lines of existing, without their newlines, that run
// the original scripts (or reset their state) and commands of the user's
// too, such as `rm -f /root/pve_did_reboot_today; /root/daily_backup.sh`:
// RemoveLegacy keeps them, for the user to edit by hand.
func Mixed(existing string) []string {
	var out []string
	for _, seg := range segments(existing) {
		if legacyKind(seg) == legacyMixed {
			out = append(out, strings.TrimSuffix(seg, "\n"))
		}
	}
	return out
}

// legacyKind is what the cron line is to the original scripts:
// notLegacy, legacyAll or legacyMixed.
func legacyKind(line string) int {
	line = strings.TrimSuffix(line, "\n")
	t := strings.TrimLeft(line, " \t")
	if t == "" || strings.HasPrefix(t, "#") || IsOurs(line) {
		return notLegacy
	}
	cmd, ok := cronCommand(t)
	if !ok {
		return notLegacy
	}
	return runsLegacy(cmd, 0)
}

// cronCommand is the command of the cron line t (blanks trimmed in front):
// what follows the schedule's fields (five, or one @word), up to the
// first unescaped %, after which cron gives the rest as standard input.
func cronCommand(t string) (string, bool) {
	skip := 5 // minute hour day month weekday
	if strings.HasPrefix(t, "@") {
		skip = 1 // @reboot, @daily …
	}
	if len(strings.Fields(t)) <= skip {
		return "", false
	}
	cmd := t
	for range skip {
		cmd = strings.TrimLeft(cmd, " \t")
		cmd = cmd[strings.IndexAny(cmd+" ", " \t"):]
	}
	for i := 0; i < len(cmd); i++ {
		if cmd[i] == '\\' {
			i++
		} else if cmd[i] == '%' {
			cmd = cmd[:i]
			break
		}
	}
	return cmd, true
}

// maxShellDepth bounds how deep `sh -c '…'` is followed.
const maxShellDepth = 4

// runsLegacy is what the shell command line cmd is to the original
// scripts: notLegacy, legacyAll (every simple command theirs or a helper,
// one at least theirs) or legacyMixed.
func runsLegacy(cmd string, depth int) int {
	if depth > maxShellDepth {
		return notLegacy
	}
	theirs, yours := false, false
	for _, c := range simpleCommands(cmd) {
		k := legacyCommand(c.words, depth)
		for _, target := range c.redirects {
			switch {
			case legacyState(base(target)):
				k = legacyAll
			case k == helper && target != "/dev/null":
				k = notLegacy // echo done >> /root/my.log: the user's
			}
		}
		theirs = theirs || k == legacyAll || k == legacyMixed
		yours = yours || k == notLegacy || k == legacyMixed
	}
	switch {
	case !theirs:
		return notLegacy
	case yours:
		return legacyMixed
	}
	return legacyAll
}

// legacyCommand is what the simple command words (name first) is to the
// original scripts: legacyAll when it runs one or removes their state
// files, helper, notLegacy, or legacyMixed (an rm of theirs and the
// user's files, an sh -c of both).
func legacyCommand(words []string, depth int) int {
	// Variable settings and the shell's words before a command.
	for len(words) > 0 && (isAssignment(words[0]) || shellKeyword(words[0])) {
		words = words[1:]
	}
	if len(words) == 0 {
		return helper
	}
	name, args := base(words[0]), words[1:]
	switch name {
	case "rm":
		theirs, yours := false, false
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				theirs = theirs || legacyState(base(a))
				yours = yours || !legacyState(base(a))
			}
		}
		switch {
		case theirs && yours:
			return legacyMixed
		case theirs:
			return legacyAll
		}
		return notLegacy
	case "nohup", "exec":
		return legacyCommand(args, depth)
	case "setsid", "nice", "ionice", "env", "timeout", "flock", "stdbuf", "chrt", "taskset", "sudo", "screen", "busybox":
		switch words, cmd := wrapped(name, args); {
		case cmd != "":
			return runsLegacy(cmd, depth+1)
		case len(words) > 0:
			return legacyCommand(words, depth)
		}
		return notLegacy
	case "tee":
		for _, a := range args {
			if legacyState(base(a)) {
				return legacyAll // writes one of their state files
			}
		}
		return notLegacy
	case "cd", "sleep", "true", "false", ":", "test", "[", "echo", "printf", "logger", "fi", "done", "esac", "}":
		// Helps the command beside it (cd /root && ./pve_host_monitor.sh,
		// echo 0 | tee /root/net_rb_count), or ends a compound command;
		// unless an argument runs a command of its own ("$(/root/job.sh)",
		// backquotes, which the lexer leaves inside a quoted word): the
		// user's.
		for _, a := range args {
			if strings.Contains(a, "$(") || strings.Contains(a, "`") {
				return notLegacy
			}
		}
		return helper
	case "sh", "bash", "ash", "dash":
		switch cmd, file := shellArgs(args); {
		case cmd != "":
			return runsLegacy(cmd, depth+1)
		case file != "":
			return script(file)
		}
		return notLegacy
	}
	return script(name)
}

// shellArgs reads a shell's arguments: the command line of -c (also of
// -ec, -lc, and after a --), or else the script file it runs; both ""
// when neither.
func shellArgs(args []string) (cmd, file string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c" || (strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.HasSuffix(a, "c")):
			if i+1 < len(args) && args[i+1] == "--" {
				i++ // sh -c -- 'command'
			}
			if i+1 < len(args) {
				return args[i+1], ""
			}
			return "", ""
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			continue
		default:
			return "", a
		}
	}
	return "", ""
}

// wrapped is what the wrapper name (nice, env, flock, timeout, sudo …)
// runs with args: the command's words, or a command line (flock's -c).
// After its own options (and their values: nice -n 10, sudo -u backup,
// screen -dmS NAME), settings (env NAME=value) and leading operands
// (timeout's duration, flock's file, chrt's priority, taskset's mask), the
// first word is the command. Only that one: `nice cp pve_host_monitor.sh
// /backup` is a copy, the user's.
func wrapped(name string, args []string) (words []string, cmd string) {
	if name == "flock" {
		for j, a := range args { // flock [options] FILE -c 'command'
			if (a == "-c" || a == "--command") && j+1 < len(args) {
				return nil, args[j+1]
			}
		}
	}
	i := 0
	for i < len(args) {
		a := args[i]
		switch {
		case a == "--":
			i++
		case strings.HasPrefix(a, "-") && len(a) > 1:
			i++
			if optionTakesValue(name, a) {
				i++
			}
			continue
		case name == "env" && isAssignment(a):
			i++
			continue
		}
		break
	}
	switch name {
	case "timeout", "flock", "chrt", "taskset":
		i++ // the operand before the command
	}
	if i < len(args) {
		return args[i:], ""
	}
	return nil, ""
}

// script is legacyAll when a names one of the original scripts, else
// notLegacy.
func script(a string) int {
	if legacyScript(base(a)) {
		return legacyAll
	}
	return notLegacy
}

// optionTakesValue reports whether the option opt of the wrapper name
// takes the next word as its value (nice -n 10, ionice -c 2, env -u NAME,
// timeout -s KILL, flock -w 5, stdbuf -o L, sudo -u user, screen -S name
// or -dmS name).
func optionTakesValue(name, opt string) bool {
	if strings.HasPrefix(opt, "--") || strings.Contains(opt, "=") {
		return false // --long=value, or a flag
	}
	last := opt[len(opt)-1:]
	var takes string
	switch name {
	case "nice":
		takes = "n"
	case "ionice":
		takes = "cnpP"
	case "env":
		takes = "uCS"
	case "timeout":
		takes = "sk"
	case "flock":
		takes = "wE"
	case "stdbuf":
		takes = "ioe"
	case "sudo":
		takes = "ugpCDhrtUT"
	case "screen":
		takes = "SctpehsTX"
	}
	return len(opt) >= 2 && strings.Contains(takes, last) && (len(opt) == 2 || name == "screen")
}

// shellKeyword reports whether w may come before a command's name.
func shellKeyword(w string) bool {
	switch w {
	case "!", "{", "if", "then", "else", "elif", "while", "until", "do", "time":
		return true
	}
	return false
}

// isAssignment: w is NAME=value.
func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j, r := range w[:i] {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || j > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// base is the last element of a path, as cron's shell would run it.
// Not inlined, to keep the router's netcheck small (SPEC §12), as group.end
// in probe.
//
//go:noinline
func base(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// simpleCommand is one command of a shell line: its words, quotes
// removed, and the files its output is redirected into.
type simpleCommand struct {
	words     []string
	redirects []string
}

// simpleCommands splits a shell command line into its simple commands at
// ; & && || | ( ) ` $( and newlines, the way sh reads it closely enough to
// tell what each runs: quotes group words, a backslash escapes the next
// character, a # that starts a word starts a comment to the end of the line, and > >> >| &> name the file that follows (or that is
// attached). Nothing is expanded.
func simpleCommands(s string) []simpleCommand {
	var l lexer
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\r':
			l.endWord()
		case '\n', ';', '|', '(', ')', '`':
			l.endCommand()
		case '#':
			if l.inWord {
				l.add(c) // a#b, $#: part of the word
				continue
			}
			// A comment, to the end of the line ("rm -f FILE # reset"):
			// no words, as sh reads it.
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j - 1 // the newline ends the command
			} else {
				i = len(s)
			}
		case '&':
			if i+1 < len(s) && s[i+1] == '>' { // &> FILE
				l.endWord()
				i++
				if i+1 < len(s) && s[i+1] == '>' {
					i++
				}
				l.redir = '>'
				continue
			}
			l.endCommand()
		case '>', '<':
			// An fd number just before it (2>) is part of the redirection.
			if l.inWord && strings.Trim(string(l.word), "0123456789") == "" {
				l.word = l.word[:0]
				l.inWord = false
			}
			l.endWord()
			if i+1 < len(s) && (s[i+1] == '>' || s[i+1] == '|') {
				i++
			}
			if i+2 < len(s) && s[i+1] == '&' && (s[i+2] >= '0' && s[i+2] <= '9' || s[i+2] == '-') {
				// 2>&1, >&-: a descriptor, no file (bash's >&FILE is a file)
				i++
				for i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '-') {
					i++
				}
				continue
			}
			if i+1 < len(s) && s[i+1] == '&' {
				i++
			}
			l.redir = c
		case '$':
			if i+1 < len(s) && s[i+1] == '(' {
				l.endCommand()
				i++
				continue
			}
			l.add(c)
		case '\\':
			l.inWord = true
			if i+1 < len(s) {
				i++
				l.add(s[i])
			}
		case '\'':
			l.inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				l.word = append(l.word, s[i+1:]...)
				i = len(s)
				break
			}
			l.word = append(l.word, s[i+1:i+1+j]...)
			i += 1 + j
		case '"':
			l.inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				l.add(s[i])
			}
		default:
			l.add(c)
		}
	}
	l.endCommand()
	return l.out
}

// lexer is simpleCommands' state: the commands so far, the one being read
// and its word being read.
type lexer struct {
	out    []simpleCommand
	cur    simpleCommand
	word   []byte
	inWord bool
	// redir is '>' when the next word is a file written, '<' when it is a
	// file read (neither a command word), else 0.
	redir byte
}

// add appends c to the word being read. Not inlined, like the other
// helpers called from many places in cold code: each inlined copy grows
// netcheck, whose stripped binary must stay ≤ 5 MiB (SPEC §12).
//
//go:noinline
func (l *lexer) add(c byte) {
	l.word = append(l.word, c)
	l.inWord = true
}

// endWord ends the word being read. Not inlined: copied into each of the
// lexer's cases it cost the router's netcheck ~1.5 KB (SPEC §12: ≤ 5 MiB).
//
//go:noinline
func (l *lexer) endWord() {
	if !l.inWord {
		return
	}
	switch l.redir {
	case '>':
		l.cur.redirects = append(l.cur.redirects, string(l.word))
	case 0:
		l.cur.words = append(l.cur.words, string(l.word))
	}
	l.redir = 0
	l.word = l.word[:0]
	l.inWord = false
}

func (l *lexer) endCommand() {
	l.endWord()
	l.redir = 0
	if len(l.cur.words) > 0 || len(l.cur.redirects) > 0 {
		l.out = append(l.out, l.cur)
	}
	l.cur = simpleCommand{}
}

// Legacy returns the lines of existing that the original scripts installed
// (SPEC §2), without their newlines, for the installer's migration and for
// `status`.
func Legacy(existing string) []string {
	var out []string
	for _, seg := range segments(existing) {
		if IsLegacy(seg) {
			out = append(out, strings.TrimSuffix(seg, "\n"))
		}
	}
	return out
}

// RemoveLegacy returns existing without the lines Legacy reports; every
// other byte is kept, the lines Mixed reports too.
func RemoveLegacy(existing string) string { return removeLines(existing, IsLegacy) }

// removeLines keeps every line (with its newline) for which drop is false.
func removeLines(existing string, drop func(string) bool) string {
	var b strings.Builder
	for _, seg := range segments(existing) {
		if !drop(seg) {
			b.WriteString(seg)
		}
	}
	return b.String()
}

// segments splits s into lines that keep their newline; only the last one
// may lack it. An empty s has none.
func segments(s string) []string {
	parts := strings.SplitAfter(s, "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// writeLines writes lines, each ended by a newline. Not inlined, to keep
// the router's netcheck small (SPEC §12), as group.end in probe.
//
//go:noinline
func writeLines(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// PackageFile is where the host package (.deb) puts its cron lines.
const PackageFile = "/etc/cron.d/netrescue"

// PackageLines are the host's jobs as the package's /etc/cron.d file has
// them (packaging/deb/cron.d): with the user field, and `test -x` so that
// cron stays quiet once the package is removed but not purged.
func PackageLines() []string {
	return []string{
		"*/5 * * * * root test -x /usr/bin/hostcheck && /usr/bin/hostcheck " + Marker,
		"@reboot root test -x /usr/bin/hostcheck && /usr/bin/hostcheck boot " + Marker,
		"0 0 * * * root test -x /usr/bin/midnight-reset && /usr/bin/midnight-reset " + Marker,
	}
}

// CheckPackage is Check for the package's cron file.
func CheckPackage(existing string) (missing []string) {
	have := make(map[string]bool)
	for _, seg := range segments(existing) {
		have[strings.TrimRight(strings.TrimSuffix(seg, "\n"), " \t\r")] = true
	}
	for _, l := range PackageLines() {
		if !have[l] {
			missing = append(missing, l)
		}
	}
	return missing
}
