package health

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestRenderJSONAndText: the same checks render as the checklist a person
// reads (unchanged: ✓/✗, detail, fix under a ✗) and as one JSON object
// whose checks carry name, ok, detail and fix; both say whether all passed.
func TestRenderJSONAndText(t *testing.T) {
	checks := []Check{
		Info("reboot count", "3 of 10 today"),
		{Name: "crond running", Detail: "no crond or cron process found", Fix: "/etc/init.d/cron enable && /etc/init.d/cron start"},
		Info("last log lines", "\nline one\nline two"),
	}
	var text strings.Builder
	if Render(&text, checks) {
		t.Errorf("Render = all ok; want a ✗")
	}
	const wantText = "✓ reboot count: 3 of 10 today\n" +
		"✗ crond running: no crond or cron process found\n" +
		"    fix: /etc/init.d/cron enable && /etc/init.d/cron start\n" +
		"✓ last log lines: \n    line one\n    line two\n"
	if text.String() != wantText {
		t.Errorf("Render =\n%s\nwant\n%s", text.String(), wantText)
	}

	var js strings.Builder
	now := time.Date(2026, 12, 6, 12, 0, 0, 5e8, time.FixedZone("CST", 8*3600))
	ok, err := RenderJSON(&js, "router", now, checks, map[string]int{"count": 3})
	if err != nil || ok {
		t.Fatalf("RenderJSON = %v, %v; want not ok, no error", ok, err)
	}
	if !strings.Contains(js.String(), `"fix": "/etc/init.d/cron enable && /etc/init.d/cron start"`) {
		t.Errorf("a fix is escaped or missing:\n%s", js.String())
	}
	var got struct {
		Side   string             `json:"side"`
		Time   string             `json:"time"`
		OK     *bool              `json:"ok"`
		Checks []map[string]any   `json:"checks"`
		State  map[string]float64 `json:"state"`
	}
	if err := json.Unmarshal([]byte(js.String()), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, js.String())
	}
	if got.Side != "router" || got.Time != "2026-12-06T12:00:00+08:00" || got.OK == nil || *got.OK || got.State["count"] != 3 {
		t.Errorf("report = %+v", got)
	}
	if len(got.Checks) != 3 {
		t.Fatalf("%d checks; want 3", len(got.Checks))
	}
	for i, c := range got.Checks {
		if len(c) != 4 || c["name"] != checks[i].Name || c["ok"] != checks[i].OK || c["fix"] != checks[i].Fix {
			t.Errorf("check %d = %v; want name, ok, detail, fix of %+v", i, c, checks[i])
		}
	}
	if got.Checks[2]["detail"] != "line one\nline two" {
		t.Errorf("last log lines detail = %q; want the lines without the checklist's leading newline", got.Checks[2]["detail"])
	}
}

// TestOutputFinish: exit status is the checklist's in both forms.
func TestOutputFinish(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		var b strings.Builder
		out := Output{JSON: asJSON, Side: "host", Now: time.Unix(0, 0)}
		if err := out.Finish(&b, []Check{Info("a", "b")}, nil); err != nil {
			t.Errorf("JSON=%v: all ok → %v; want nil", asJSON, err)
		}
		if err := out.Finish(&b, []Check{{Name: "a"}}, nil); err == nil {
			t.Errorf("JSON=%v: a ✗ → nil; want an error (exit 1)", asJSON)
		}
	}
}
