package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pve-op/network-rescue/internal/cli"
	"github.com/pve-op/network-rescue/internal/notify"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/state"
)

// NotifyTimeout bounds the delivery of the queued messages.
const NotifyTimeout = 10 * time.Second

func (h *host) queue() notify.Queue {
	return notify.Queue{Path: filepath.Join(h.cfg.StateDir, notify.QueueFile)}
}

// sentFile in RUN_DIR holds the digest of a queue sent and not removed.
func (h *host) sentFile() string { return filepath.Join(cli.RunDir(h.cfg.RunDir), NotifySentFile) }

// notify queues a message for the owner (SPEC §9); it leaves with the
// first run that finds the internet up. once skips it when a message of
// the same event already waits (SOS is seen every five minutes).
func (h *host) notify(event, text string, once bool) {
	if h.cfg.NotifyURL == "" || h.cfg.DryRun {
		return
	}
	q := h.queue()
	msgs, _ := q.Load()
	sent := h.sentFile()
	if b, rerr := state.ReadBounded(sent, 4096); rerr == nil && len(msgs) > 0 && string(b) == queueDigest(msgs) {
		// Sent already, not removed then (a read-only or full STATE_DIR):
		// what comes now starts a queue of its own. Added to it, the old
		// messages went out again with it, and a second SOS was taken for
		// the first one, waiting, and never sent.
		if err := q.Clear(); err == nil {
			_ = state.Remove(sent)
			msgs = nil
		}
	}
	if once {
		for _, m := range msgs {
			if m.Event == event {
				return
			}
		}
	}
	if err := q.Add(notify.Message{Time: h.e.Now().In(h.loc), Event: event, Text: text}); err != nil {
		h.log.Error("【严重错误】通知无法保存", "err", err)
	}
}

// notifyStep queues what this run's decision is worth telling.
func (h *host) notifyStep(st rescue.State, obs rescue.Obs, step rescue.Step) {
	if h.cfg.NotifyURL == "" {
		return
	}
	switch {
	case obs.Up() && !st.DownSince.IsZero(): // as Decide: a DNS fault is no recovery
		// A clock set back during the outage makes no negative length:
		// 0, as the log's 【恢复】 outage= and the hook's.
		h.notify("recovery", fmt.Sprintf("互联网已恢复，断网约 %s。", max(obs.Now.Sub(st.DownSince), 0).Round(time.Minute)), false)
	case step.Action == rescue.VMStart:
		// Queued once qm answered, not for a refusal given back
		// (vmCounted).
		h.notify("vm-start", fmt.Sprintf("OpenWrt 虚拟机 %s 已停止，正在启动 (qm start)。", h.cfg.VMID), false)
	case step.Action == rescue.VMResume:
		h.notify("vm-resume", fmt.Sprintf("OpenWrt 虚拟机 %s 已暂停，正在恢复 (qm resume)。", h.cfg.VMID), false)
	case step.Action == rescue.Assist:
		h.notify("assist", fmt.Sprintf("局域网侧故障 (%s)：已请求 OpenWrt 执行 %s。", step.Next.LANFault, step.Assist), false)
	case step.Action == rescue.VMRestart:
		h.notify("vm-restart", fmt.Sprintf("OpenWrt 虚拟机 %s 正在冷重启 (qm stop/start)。", h.cfg.VMID), false)
	case step.Action == rescue.HostReboot:
		// The mark's reason says why: SOS, a LAN fault, a VM that will
		// not start; only SOS quotes the router.
		text := "PVE 物理机今天重启一次 (" + step.Next.Mark.Reason + ")。"
		if obs.RouterKnown && obs.Router.SOS {
			text += "OpenWrt 的 SOS：" + obs.Router.SOSContent
		}
		h.notify("host-reboot", text, false)
	case obs.RouterKnown && obs.Router.SOS:
		h.notify("sos", "OpenWrt 发出 SOS："+obs.Router.SOSContent, true)
	}
}

// flushNotifications sends what waits when the internet is up; a run that
// did not probe (the day's rescue spent) probes only if something waits.
func (h *host) flushNotifications(ctx context.Context, obs rescue.Obs) {
	if h.cfg.NotifyURL == "" || h.cfg.DryRun {
		return
	}
	q := h.queue()
	msgs, err := q.Load()
	if ce := (*state.CorruptError)(nil); errors.As(err, &ce) {
		h.repairQueue(q, ce)
		return
	}
	if err != nil {
		h.logProblem(err) // not read (EIO): nothing known to repair
	}
	if err != nil || len(msgs) == 0 {
		return
	}
	if !obs.NetKnown {
		h.observeNet(ctx, &obs)
	}
	// The IP probe, not Obs.Up: a message may leave during a DNS fault.
	if !obs.NetUp {
		return
	}
	service := notify.Service(h.cfg.NotifyURL)
	failing := filepath.Join(cli.RunDir(h.cfg.RunDir), NotifyFailingFile)
	sent, digest := h.sentFile(), queueDigest(msgs)
	if b, rerr := state.ReadBounded(sent, 4096); rerr == nil && string(b) == digest {
		// Sent already, the queue not removed since (a read-only or full
		// STATE_DIR): sent again, the owner had the same messages every
		// five minutes. Its removal is tried again, quietly.
		if err := q.Clear(); err != nil {
			h.log.Debug("notify queue sent, still not cleared", "err", err)
			return
		}
		_ = state.Remove(sent)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, NotifyTimeout)
	defer cancel()
	if err := notify.Send(sctx, webClient(), h.cfg.NotifyURL, msgs, h.loc); err != nil {
		// The URL holds the secret: the error names the service only.
		msg := notify.Redact(err.Error(), h.cfg.NotifyURL)
		kind := failureKind(msg)
		if said, rerr := state.ReadBounded(failing, 4096); rerr == nil && string(said) == kind+"\n" {
			// Said already: a revoked token must not log a WARN every
			// five minutes (SPEC §8); a different failure is said again.
			h.log.Debug("notify still failing", "service", service, "messages", len(msgs), "err", msg)
			return
		}
		h.log.Warn("【通知】发送失败，下次再试", "service", service, "messages", len(msgs), "err", msg)
		if werr := state.WriteFile(failing, []byte(kind+"\n"), 0o600); werr != nil {
			h.log.Debug("notify failure not recorded", "file", failing, "err", werr)
		}
		return
	}
	if err := q.Clear(); err != nil {
		h.log.Error("【严重错误】通知已发送但无法清除队列：在它可清除之前不再重发", "err", err)
		if werr := state.WriteFile(sent, []byte(digest), 0o600); werr != nil {
			h.log.Debug("notify sent, not recorded", "file", sent, "err", werr)
		}
	}
	_ = state.Remove(failing)
	h.log.Info("【通知】已发送", "service", service, "messages", len(msgs))
}

// repairQueue clears a damaged queue (SPEC §15: a FIFO, a symlink, a file
// too large, a directory) and says so in one line, with what was lost: its
// messages were not read and never will be. Once cleared, the next run
// finds no queue and logs nothing (SPEC §8); only a clearing that fails is
// told again. A directory with something in it is moved aside, not
// deleted: what it holds is not ours.
func (h *host) repairQueue(q notify.Queue, ce *state.CorruptError) {
	aside, err := q.Repair(h.e.Now().In(h.loc))
	switch {
	case err != nil:
		h.log.Error("【严重错误】通知队列损坏且无法清除，其中的通知已丢失，新的通知无法排队", "file", ce.Path, "kind", ce.Kind, "reason", ce.Reason, "err", err)
	case aside != "":
		h.log.Error("【严重错误】通知队列损坏 (非空目录)，已移到一旁 (其中内容未删除)，其中的通知已丢失", "file", ce.Path, "kind", ce.Kind, "moved_to", aside)
	default:
		h.log.Error("【严重错误】通知队列损坏，已删除，其中的通知已丢失", "file", ce.Path, "kind", ce.Kind, "reason", ce.Reason)
	}
}

// failureKind is what a delivery failure comes down to: the last part of
// its error chain ("connection reset by peer", "i/o timeout", "HTTP 400
// Bad Request") without numbers. What comes before it (which read, dial or
// write, which local port) changes from one run to the next for the same
// fault; HTTP 400 then HTTP 503 are two failures.
func failureKind(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if strings.HasPrefix(msg, "HTTP ") {
		return msg
	}
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return -1
		}
		return r
	}, msg)
}

// NotifyFailingFile in RUN_DIR records that the last delivery of the
// queue failed and was logged: later failures are not logged again until
// one succeeds.
const NotifyFailingFile = "notify.failing"

// queueDigest is NotifySentFile's content for msgs: the SHA-256 of the
// messages as JSON, whose texts are quoted (with %v a text, the router's
// SOS content, could read as two messages, and a queue not sent as one
// sent).
func queueDigest(msgs []notify.Message) string {
	b, _ := json.Marshal(msgs)
	return fmt.Sprintf("%x\n", sha256.Sum256(b))
}

// NotifySentFile in RUN_DIR holds the digest of a queue sent whose removal
// failed: the same queue is not sent again.
const NotifySentFile = "notify.sent"
