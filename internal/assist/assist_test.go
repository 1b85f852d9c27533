package assist

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLine: the exact line the router prints, which the host parses back.
func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Result
		want string
		code int
	}{
		{"done", Result{Step: Network, Outcome: Done, Detail: "L2_CMD ran"},
			`netrescue-assist step=network result=done detail="L2_CMD ran"`, 0},
		{"refused", Result{Step: Reboot, Outcome: Refused, Why: WhyCooling, Detail: "cooling until 2026-11-25 13:00:00"},
			`netrescue-assist step=reboot result=refused why=cooling detail="cooling until 2026-11-25 13:00:00"`, 3},
		{"failed, detail with a newline, a quote and Chinese",
			Result{Step: DNS, Outcome: Failed, Why: WhyCommand, Detail: "exit 1: \"dnsmasq\"\n失败"},
			`netrescue-assist step=dns result=failed why=command detail="exit 1: \"dnsmasq\"\n\u5931\u8d25"`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Line(); got != tc.want {
				t.Errorf("Line() = %s; want %s", got, tc.want)
			}
			if got := tc.r.ExitCode(); got != tc.code {
				t.Errorf("ExitCode() = %d; want %d", got, tc.code)
			}
			back, err := Parse("some noise\n" + tc.r.Line() + "\n")
			if err != nil || back != tc.r {
				t.Errorf("Parse(Line()) = %+v, %v; want %+v", back, err, tc.r)
			}
		})
	}
}

// TestParse: what the host accepts and refuses from the router's stdout.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      Result
		wantErr   string
	}{
		{name: "last line wins", out: "netrescue-assist step=dns result=failed detail=\"\"\nnetrescue-assist step=dns result=done detail=\"ok\"\n",
			want: Result{Step: DNS, Outcome: Done, Detail: "ok"}},
		{name: "CRLF", out: "netrescue-assist step=network result=done detail=\"x\"\r\n",
			want: Result{Step: Network, Outcome: Done, Detail: "x"}},
		{name: "unknown key skipped", out: `netrescue-assist step=reboot result=refused why=limit count=9 detail="y"`,
			want: Result{Step: Reboot, Outcome: Refused, Why: WhyLimit, Detail: "y"}},
		{name: "no line", out: "sh: netcheck: not found\n", wantErr: ErrNoLine.Error()},
		{name: "empty", out: "", wantErr: ErrNoLine.Error()},
		{name: "unknown step", out: `netrescue-assist step=halt result=done detail=""`, wantErr: `unknown assist step "halt"`},
		{name: "unknown result", out: `netrescue-assist step=dns result=maybe detail=""`, wantErr: `unknown result "maybe"`},
		{name: "why not a word", out: `netrescue-assist step=dns result=refused why=【SOS】 detail=""`, wantErr: "is not a word"},
		{name: "unterminated detail", out: `netrescue-assist step=dns result=done detail="abc`, wantErr: "detail"},
		{name: "text after detail", out: `netrescue-assist step=dns result=done detail="a"b`, wantErr: "text after detail"},
		{name: "key twice", out: `netrescue-assist step=dns step=reboot result=done`, wantErr: "step twice"},
		{name: "missing result", out: `netrescue-assist step=dns detail=""`, wantErr: "want step= and result="},
		{name: "not key=value", out: `netrescue-assist step=dns result=done junk`, wantErr: "want key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Parse(%q) = %+v, %v; want error with %q", tc.out, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.out, got, err, tc.want)
			}
		})
	}
}

func TestErrorCarriesExitCode(t *testing.T) {
	var err error = &Error{Result{Step: Reboot, Outcome: Refused, Why: WhySafeUptime, Detail: "uptime 42s < SAFE_UPTIME 10m0s"}}
	var ae *Error
	if !errors.As(err, &ae) || ae.ExitCode() != ExitRefused {
		t.Fatalf("errors.As(%v) = %v; want exit %d", err, ae, ExitRefused)
	}
	if want := "assist reboot refused (safe-uptime): uptime 42s < SAFE_UPTIME 10m0s"; err.Error() != want {
		t.Errorf("Error() = %q; want %q", err.Error(), want)
	}
}

func TestParseStep(t *testing.T) {
	for _, s := range []string{"dns", "network", "reboot"} {
		if st, err := ParseStep(s); err != nil || string(st) != s {
			t.Errorf("ParseStep(%q) = %q, %v", s, st, err)
		}
	}
	if _, err := ParseStep("DNS"); err == nil || err.Error() != `unknown assist step "DNS"; want dns, network or reboot` {
		t.Errorf("ParseStep(DNS) = %v", err)
	}
}

func TestMaxDuration(t *testing.T) {
	if got, want := MaxDuration(3*time.Second), 3*time.Second+15*time.Second+2*time.Minute+5*time.Second; got != want {
		t.Errorf("MaxDuration(3s) = %v; want %v", got, want)
	}
}

// FuzzParse: whatever a router answers, Parse never panics, and a line it
// accepts renders back to a line that parses to the same result.
func FuzzParse(f *testing.F) {
	f.Add(`netrescue-assist step=reboot result=refused why=cooling detail="cooling until 2026-11-25 13:00:00"`)
	f.Add("netrescue-assist step=dns result=done detail=\"\\u5931\"\n")
	f.Add(`netrescue-assist step=network result=failed why=command count=1 detail="x"`)
	f.Add("netrescue-assist step=dns result=done detail=\"a\"b")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := Parse(out)
		if err != nil {
			return
		}
		back, err := Parse(r.Line())
		if err != nil || back != r {
			t.Fatalf("Parse(%q) = %+v; its Line %q parses to %+v, %v", out, r, r.Line(), back, err)
		}
		if strings.ContainsAny(r.Line(), "\n\r") {
			t.Fatalf("Line() %q spans lines", r.Line())
		}
	})
}
