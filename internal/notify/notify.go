// Package notify tells the owner what the host did (SPEC §9): SOS handled,
// host reboot, router VM restart, misfire, recovery. While the internet is
// down a message cannot leave, so messages wait in a small bounded queue in
// STATE_DIR and the first run that finds the net up sends them, with the
// outage summary. The URL carries the secret (a Bark key, a bot token), so
// it never appears in a log: Service names the service instead.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pve-op/network-rescue/internal/httpc"
	"github.com/pve-op/network-rescue/state"
)

// QueueFile in STATE_DIR holds messages not sent yet.
const QueueFile = "notify.queue"

// MaxQueued bounds the queue. Beyond it the first message (how the
// outage began) and the newest are kept, with one line between them
// saying how many were dropped: a week's outage dropped its first day's
// reboot without a word.
const MaxQueued = 20

// Dropped is the Event of the line that counts the messages dropped.
const Dropped = "dropped"

// Message is one thing the owner should hear about.
type Message struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"` // sos, host-reboot, vm-restart, vm-start, vm-resume, assist, misfire, reboot-cancelled, recovery
	Text  string    `json:"text"`
	// Count is how many messages a Dropped line stands for.
	Count int `json:"count,omitempty"`
}

// Queue is the file of messages waiting for the internet.
type Queue struct{ Path string }

// Load reads the queued messages; a damaged line is skipped. The file is
// read with state.ReadBounded (SPEC §15: 64 KiB, no FIFO, no symlink): a
// damaged queue is no messages and a *state.CorruptError the caller logs
// as 【严重错误】 and clears with Repair.
func (q Queue) Load() ([]Message, error) {
	b, err := state.ReadBounded(q.Path, state.MaxQueueBytes)
	var ce *state.CorruptError
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if errors.As(err, &ce) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read notify queue: %w", err)
	}
	var out []Message
	for _, line := range strings.Split(string(b), "\n") {
		var m Message
		if line != "" && json.Unmarshal([]byte(line), &m) == nil && m.Text != "" {
			out = append(out, m)
		}
	}
	return out, nil
}

// Add appends m, keeping at most MaxQueued messages in at most
// state.MaxQueueBytes, which Load reads: a queue past it reads as damaged,
// all its messages lost. A text quoting a hostile router's SOS_SYSTEM (4
// KiB, each '<' six bytes as JSON) could take it there in three messages.
// A damaged queue is replaced by one holding m: the messages it held are
// lost either way.
func (q Queue) Add(m Message) error {
	msgs, err := q.Load()
	var ce *state.CorruptError
	if errors.As(err, &ce) && ce.Kind != "directory" {
		msgs, err = nil, nil
	}
	if err != nil {
		return err
	}
	m.Text = clip(m.Text, MaxText)
	msgs = append(msgs, m)
	b := encode(msgs)
fit:
	for len(msgs) > MaxQueued || len(b) > state.MaxQueueBytes {
		switch last := &msgs[len(msgs)-1]; {
		case len(msgs) > 3 || len(msgs) == 3 && msgs[1].Event != Dropped:
			msgs = dropOldest(msgs)
		case last.Text != textDropped:
			// The first, the count and the newest alone are too large:
			// the newest's text goes, said so (the log has it), then the
			// first's.
			last.Text = textDropped
		case msgs[0].Text != textDropped:
			msgs[0].Text = textDropped
		default:
			break fit // cannot happen: three short lines fit
		}
		b = encode(msgs)
	}
	return state.WriteFile(q.Path, b, 0o600)
}

// MaxText bounds a queued message's text, in bytes: ours are a few
// hundred; one quoting SOS_SYSTEM twice (the reason and the content, 4 KiB
// each from a hostile router) is cut, so that the first message, the
// count and the newest fit state.MaxQueueBytes however it is escaped.
const MaxText = 2048

// clip cuts text to at most max bytes, on a character's boundary, with an
// ellipsis where it was cut.
func clip(text string, max int) string {
	const more = "…"
	if len(text) <= max {
		return text
	}
	cut := max - len(more)
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + more
}

// textDropped stands for a text too large for the queue.
const textDropped = "(通知过长，未能保存，详见日志。)"

// dropOldest drops the oldest message after the first (how the outage
// began) into the line that counts those dropped, made when there is none.
func dropOldest(msgs []Message) []Message {
	first, rest, n := msgs[0], msgs[1:], 0
	if rest[0].Event == Dropped {
		n, rest = rest[0].Count, rest[1:]
	}
	n++
	line := Message{Time: rest[0].Time, Event: Dropped, Count: n, Text: fmt.Sprintf("(队列已满：此处省略了 %d 条通知，详见日志。)", n)}
	return append([]Message{first, line}, rest[1:]...)
}

// encode renders msgs as the queue file holds them: one JSON line each.
func encode(msgs []Message) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Repair clears a queue Load found damaged (a *state.CorruptError: a FIFO,
// a symlink, a file too large, a directory), so that the damage is told
// once and the next message can be queued: its messages are lost either
// way. A directory with something in it is moved aside (see
// state.ClearDamaged), to the path returned; "" when it was removed.
func (q Queue) Repair(now time.Time) (aside string, err error) {
	aside = q.Path + ".damaged-" + now.Format("20060102-150405")
	moved, err := state.ClearDamaged(q.Path, aside)
	if err != nil || !moved {
		return "", err
	}
	return aside, nil
}

// Clear deletes the queue after it was sent.
func (q Queue) Clear() error { return state.Remove(q.Path) }

// Service names the service behind a NOTIFY_URL without its secret.
func Service(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid URL"
	}
	switch h := u.Hostname(); {
	case h == "api.day.app":
		return "bark"
	case strings.HasSuffix(h, "ftqq.com") || strings.HasSuffix(h, ".push.ft07.com"):
		return "serverchan" // Turbo (sctapi.ftqq.com) and ServerChan³ (UID.push.ft07.com): both take title and desp
	case strings.HasSuffix(h, "pushplus.plus"):
		return "pushplus"
	case h == "api.telegram.org":
		return "telegram"
	case h == "ntfy.sh" || strings.HasPrefix(h, "ntfy."):
		return "ntfy"
	default:
		masked, _ := hostSecrets(h)
		return "webhook " + u.Scheme + "://" + masked
	}
}

// hostSecrets masks the labels of host h that may be a secret: those
// before its last two with a digit in them (Pipedream's
// eo3f9c2a7b1d4e5f6.m.pipedream.net, ServerChan³'s UID.push.ft07.com);
// an IP address has none.
func hostSecrets(h string) (masked string, secrets []string) {
	labels := strings.Split(h, ".")
	if net.ParseIP(h) != nil || len(labels) <= 2 {
		return h, nil
	}
	for i, l := range labels[:len(labels)-2] {
		if strings.ContainsAny(l, "0123456789") {
			secrets = append(secrets, l)
			labels[i] = "***"
		}
	}
	return strings.Join(labels, "."), secrets
}

// Redact takes out of text every part of raw that may hold its secret:
// the URL itself, and each word (a run of letters and digits, at least 4
// long) of its user, password, path, query and fragment: a Bark key, a bot
// token, a topic. What is left names the host at most: a word of the
// scheme or the host is kept.
func Redact(text, raw string) string {
	if raw == "" {
		return text
	}
	text = strings.ReplaceAll(text, raw, "NOTIFY_URL")
	u, err := url.Parse(raw)
	if err != nil {
		return text
	}
	// Whole pieces first, as written and percent-decoded: a path segment,
	// a query value, the user and password, the fragment ("pve-x9k", whose
	// words are all short).
	pieces := append(strings.Split(u.EscapedPath(), "/"), strings.Split(u.Path, "/")...)
	pieces = append(pieces, u.User.Username(), u.Fragment, u.EscapedFragment())
	if pw, ok := u.User.Password(); ok {
		pieces = append(pieces, pw)
	}
	_, hs := hostSecrets(u.Hostname())
	pieces = append(pieces, hs...)
	for _, vs := range u.Query() {
		pieces = append(pieces, vs...)
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		_, v, _ := strings.Cut(kv, "=")
		pieces = append(pieces, v)
	}
	for _, p := range pieces {
		if len(p) >= 3 {
			text = strings.ReplaceAll(text, p, "***")
		}
	}
	word := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	keep := map[string]bool{}
	masked, _ := hostSecrets(u.Hostname())
	for _, w := range strings.FieldsFunc(u.Scheme+" "+masked+" "+u.Port(), word) {
		keep[w] = true
	}
	for _, w := range strings.FieldsFunc(raw+" "+u.Path, word) {
		if len(w) >= 4 && !keep[w] {
			text = strings.ReplaceAll(text, w, "***")
		}
	}
	return text
}

// Title is the title of every message.
const Title = "PVE-Op-Network-Rescue"

// Request builds the request that delivers text to the service of raw:
//   - Bark: https://api.day.app/KEY → POST JSON {title, body}
//   - ServerChan: https://sctapi.ftqq.com/KEY.send, or ServerChan³'s
//     https://UID.push.ft07.com/send/KEY.send → POST form title, desp
//   - PushPlus: https://www.pushplus.plus/send?token=T → POST JSON {token, title, content}
//   - Telegram: https://api.telegram.org/botTOKEN/sendMessage?chat_id=ID → POST JSON {chat_id, text}
//   - ntfy: https://ntfy.sh/TOPIC → POST text with a Title header
//   - anything else: POST JSON {title, text, events: [...]} (a generic webhook)
func Request(raw, text string, msgs []Message) (httpc.Request, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return httpc.Request{}, fmt.Errorf("NOTIFY_URL is not an http(s) URL")
	}
	post := func(ct string, body []byte, extra ...httpc.Field) (httpc.Request, error) {
		return httpc.Request{Method: "POST", URL: u, Header: append([]httpc.Field{{Name: "Content-Type", Value: ct}}, extra...), Body: body}, nil
	}
	// Without HTML's escapes: a '<' of a router's text is one byte, not
	// six, within Bark's 4 KiB (MaxSent).
	jsonBody := func(v any) []byte {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(v)
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	switch Service(raw) {
	case "bark":
		return post("application/json", jsonBody(map[string]string{"title": Title, "body": text}))
	case "serverchan":
		return post("application/x-www-form-urlencoded", []byte(url.Values{"title": {Title}, "desp": {text}}.Encode()))
	case "pushplus":
		token := u.Query().Get("token")
		return post("application/json", jsonBody(map[string]string{"token": token, "title": Title, "content": text}))
	case "telegram":
		chat := u.Query().Get("chat_id")
		q := u.Query()
		q.Del("chat_id")
		u.RawQuery = q.Encode()
		return post("application/json", jsonBody(map[string]string{"chat_id": chat, "text": Title + "\n" + text}))
	case "ntfy":
		return post("text/plain; charset=utf-8", []byte(text), httpc.Field{Name: "Title", Value: Title})
	}
	return post("application/json", jsonBody(map[string]any{"title": Title, "text": text, "events": msgs}))
}

// MaxSent bounds the text of one delivery, in bytes: Telegram takes
// 4096 characters, Bark (Apple's push) 4 KiB of payload with the title.
// A queue of hostile texts (MaxText each) went past them, every delivery
// was refused the same way, and the queue never cleared.
const MaxSent = 3000

// Text renders queued messages as one message, oldest first, in at most
// MaxSent bytes: beyond that the first and as many of the newest as fit,
// with a line saying how many between them were left out (the log has
// them); a line too long alone is cut.
func Text(msgs []Message, loc *time.Location) string {
	lines := make([]string, len(msgs))
	for i, m := range msgs {
		lines[i] = clip(m.Time.In(loc).Format("01-02 15:04")+" "+m.Text, MaxSent/3)
	}
	if text := strings.Join(lines, "\n"); len(text) <= MaxSent {
		return text
	}
	gap := func(n int) string { return fmt.Sprintf("(此处省略了 %d 条通知，详见日志。)", n) }
	keep, size := len(lines), len(lines[0])+1+len(gap(len(lines)))
	for keep > 1 && size+1+len(lines[keep-1]) <= MaxSent {
		keep--
		size += 1 + len(lines[keep])
	}
	return strings.Join(append([]string{lines[0], gap(keep - 1)}, lines[keep:]...), "\n")
}

// Send delivers the messages as one, within ctx. A status outside 2xx is
// an error naming the service and the status, never the URL.
func Send(ctx context.Context, client httpc.Doer, raw string, msgs []Message, loc *time.Location) error {
	req, err := Request(raw, Text(msgs, loc), msgs)
	if err != nil {
		return err
	}
	resp, err := client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("notify %s: %w", Service(raw), err)
	}
	if !resp.OK() {
		return fmt.Errorf("notify %s: HTTP %s", Service(raw), resp.Status)
	}
	return nil
}
