package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pve-op/network-rescue/internal/httpc"
)

var t0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

func TestQueueBoundedAndTolerant(t *testing.T) {
	q := Queue{Path: filepath.Join(t.TempDir(), QueueFile)}
	for i := 0; i < MaxQueued+5; i++ {
		if err := q.Add(Message{Time: t0, Event: "sos", Text: strings.Repeat("x", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	// Beyond MaxQueued: the first (how the outage began), a line counting
	// what was dropped, the newest.
	msgs, err := q.Load()
	if err != nil || len(msgs) != MaxQueued || len(msgs[0].Text) != 1 || msgs[1].Event != Dropped || msgs[1].Count != 6 ||
		!strings.Contains(msgs[1].Text, "省略了 6 条通知") || len(msgs[2].Text) != 8 || len(msgs[MaxQueued-1].Text) != MaxQueued+5 {
		t.Fatalf("Load = %d messages (%+v), %v; want the first, 6 dropped, the newest %d", len(msgs), msgs, err, MaxQueued-2)
	}
	// A damaged line (power cut in an older version, a hand edit) is skipped.
	b, _ := os.ReadFile(q.Path)
	os.WriteFile(q.Path, append([]byte("{garbage\n"), b...), 0o600)
	if msgs, _ := q.Load(); len(msgs) != MaxQueued {
		t.Errorf("Load with a damaged line = %d messages; want %d", len(msgs), MaxQueued)
	}
	if fi, _ := os.Stat(q.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("queue mode %v; want 0600", fi.Mode().Perm())
	}
	if err := q.Clear(); err != nil {
		t.Fatal(err)
	}
	if msgs, err := q.Load(); len(msgs) != 0 || err != nil {
		t.Errorf("after Clear: %v %v", msgs, err)
	}
}

func TestRequestPerService(t *testing.T) {
	msgs := []Message{{Time: t0, Event: "host-reboot", Text: "PVE 重启"}}
	tests := []struct {
		url, service, wantURL, wantBody string
	}{
		{"https://api.day.app/SECRETKEY", "bark", "https://api.day.app/SECRETKEY", `"body":"hello"`},
		{"https://sctapi.ftqq.com/SCTKEY.send", "serverchan", "https://sctapi.ftqq.com/SCTKEY.send", "desp=hello"},
		// ServerChan³ takes the same title and desp (doc2.ft07.com serverchan3: "sendkey, title, desp").
		{"https://123.push.ft07.com/send/SCTKEY.send", "serverchan", "https://123.push.ft07.com/send/SCTKEY.send", "desp=hello"},
		{"https://www.pushplus.plus/send?token=TOK", "pushplus", "https://www.pushplus.plus/send?token=TOK", `"token":"TOK"`},
		{"https://api.telegram.org/botTOKEN/sendMessage?chat_id=42", "telegram", "https://api.telegram.org/botTOKEN/sendMessage", `"chat_id":"42"`},
		{"https://ntfy.sh/my-topic", "ntfy", "https://ntfy.sh/my-topic", "hello"},
		{"https://hooks.example.net/x?k=SECRET", "webhook https://hooks.example.net", "https://hooks.example.net/x?k=SECRET", `"events":[{`},
	}
	for _, tt := range tests {
		if got := Service(tt.url); got != tt.service {
			t.Errorf("Service(%q) = %q; want %q", tt.url, got, tt.service)
		}
		req, err := Request(tt.url, "hello", msgs)
		if err != nil {
			t.Fatalf("Request(%q): %v", tt.url, err)
		}
		body := req.Body
		if req.Method != http.MethodPost || req.URL.String() != tt.wantURL || !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("Request(%q) = %s %s %s; want POST %s with %s", tt.url, req.Method, req.URL, body, tt.wantURL, tt.wantBody)
		}
	}
	if _, err := Request("ftp://x", "hello", msgs); err == nil {
		t.Errorf("Request(ftp) = nil error")
	}
}

// TestSend delivers to a webhook on loopback, and a failure names the
// service and status but never the URL's secret.
func TestSend(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "fail") {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	msgs := []Message{
		{Time: t0, Event: "sos", Text: "OpenWrt SOS"},
		{Time: t0.Add(time.Minute), Event: "recovery", Text: "互联网已恢复"},
	}
	if err := Send(context.Background(), httpc.Client{}, srv.URL+"/hook?key=SECRET", msgs, time.UTC); err != nil {
		t.Fatal(err)
	}
	if got["title"] != Title || got["text"] != "11-25 14:00 OpenWrt SOS\n11-25 14:01 互联网已恢复" {
		t.Errorf("webhook got %v", got)
	}
	err := Send(context.Background(), httpc.Client{}, srv.URL+"/fail?key=SECRET", msgs, time.UTC)
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Send to a failing hook = %v; want HTTP 403 without the secret", err)
	}
	srv.Close()
	err = Send(context.Background(), httpc.Client{}, srv.URL+"/hook?key=SECRET", msgs, time.UTC)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Send to a closed server = %v; want an error without the secret", err)
	}
}

// TestRedact: what status shows of a delivery's failure holds no part of
// NOTIFY_URL that may be its secret (the Bark key, the ServerChan key,
// PushPlus's token, Telegram's bot token and chat, an ntfy topic, a
// webhook's user, path and query), only the host.
func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		secrets []string
	}{
		{"https://api.day.app/BARKKEY123", []string{"BARKKEY123"}},
		{"https://sctapi.ftqq.com/SCTKEY99.send", []string{"SCTKEY99"}},
		{"https://www.pushplus.plus/send?token=PPTOKEN1", []string{"PPTOKEN1"}},
		{"https://api.telegram.org/bot123:TGTOKEN/sendMessage?chat_id=98765", []string{"TGTOKEN", "98765"}},
		{"https://ntfy.sh/mytopic-x", []string{"mytopic-x"}},
		{"https://user:PASSWD@hooks.example.net/h/HOOKID?sig=SIGVAL#FRAG", []string{"PASSWD", "user", "HOOKID", "SIGVAL", "FRAG"}},
		// Secrets whose words are all short, and one percent-encoded in
		// the URL, shown decoded by the failure.
		{"https://ntfy.sh/pve-x9k", []string{"pve-x9k"}},
		{"https://hooks.example.net/AbC-dEf_gHi", []string{"AbC-dEf_gHi"}},
		{"https://ntfy.sh/%6Dy%74opic99", []string{"mytopic99"}},
		// A secret in the host name (Pipedream, ServerChan³'s UID).
		{"https://eo3f9c2a7b1d4e5f6.m.pipedream.net/", []string{"eo3f9c2a7b1d4e5f6"}},
		{"https://sctp4821tkey.push.ft07.com/send", []string{"sctp4821tkey"}},
	} {
		u, _ := url.Parse(tc.raw)
		text := "dial " + tc.raw + " failed: " + strings.Join(tc.secrets, ", ") + ": connection refused"
		got := Redact(text, tc.raw)
		for _, s := range tc.secrets {
			if strings.Contains(got, s) {
				t.Errorf("Redact(%q, %q) = %q; holds %q", text, tc.raw, got, s)
			}
		}
		if !strings.Contains(got, "connection refused") {
			t.Errorf("Redact(%q, %q) = %q; want the failure kept", text, tc.raw, got)
		}
		if masked, secrets := hostSecrets(u.Hostname()); len(secrets) == 0 {
			if got := Redact("connect to "+u.Hostname(), tc.raw); got != "connect to "+u.Hostname() {
				t.Errorf("Redact of the host alone = %q; want it kept", got)
			}
		} else if got := Service(tc.raw); strings.Contains(got, secrets[0]) || (strings.HasPrefix(got, "webhook") && !strings.Contains(got, masked)) {
			t.Errorf("Service(%q) = %q; want the host's secret masked (%s)", tc.raw, got, masked)
		}
	}
}
