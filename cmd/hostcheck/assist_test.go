package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pve-op/network-rescue/internal/assist"
	"github.com/pve-op/network-rescue/internal/command"
	"github.com/pve-op/network-rescue/internal/remote"
	"github.com/pve-op/network-rescue/internal/rescue"
	"github.com/pve-op/network-rescue/internal/testlab"
)

// lanAssistHost is a host with no VM_ID in a LAN path fault seen once
// already, readied for carryOut: its own SSH key, ON_EVENT_CMD recorded in
// *events, NOTIFY_URL queued in STATE_DIR. The router is on 127.0.0.1
// (closedRouter, fakeRouter set its port).
func lanAssistHost(t *testing.T) (*host, *strings.Builder, *[]string) {
	t.Helper()
	h := testHost(t, func(_ context.Context, cmdline string, _ time.Duration) command.Result {
		return command.Result{Cmd: cmdline}
	})
	h.cfg.VMID = ""
	dir, log := checkable(t, h)
	giveKey(t, h, dir)
	h.cfg.OpIP, h.cfg.SSHTimeout = "127.0.0.1", 2*time.Second
	h.cfg.NotifyURL, h.cfg.OnEventCmd = "http://127.0.0.1:9/push", "/usr/local/bin/my-hook"
	events := &[]string{}
	h.e.ExecEnv = func(_ context.Context, cmdline string, _ time.Duration, env []string) command.Result {
		for _, kv := range env {
			if name, ok := strings.CutPrefix(kv, "NETRESCUE_EVENT="); ok {
				*events = append(*events, name)
			}
		}
		return command.Result{Cmd: cmdline}
	}
	return h, log, events
}

// closedRouter points h at a port of 127.0.0.1 nothing listens on, its
// host key pinned: the connection is refused, with no SSH server and no
// network beyond the loopback.
func closedRouter(t *testing.T, h *host) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.cfg.OpSSHPort = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	pinSomeKey(t, h, ln.Addr().String())
}

// pinSomeKey pins a fresh host key for addr in h's KNOWN_HOSTS: the
// router there is known, and whatever answers is not it.
func pinSomeKey(t *testing.T, h *host, addr string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Pin(h.cfg.KnownHosts, addr, key); err != nil {
		t.Fatal(err)
	}
}

// fakeRouter serves SSH on 127.0.0.1 with a fresh host key, pinned into
// h's KNOWN_HOSTS, and answers every exec request with answer(cmd, ch): it
// writes what the command would and returns its exit status, or -1 to
// end the session with none (a router going down rebooting).
func fakeRouter(t *testing.T, h *host, answer func(cmd string, ch ssh.Channel) int) {
	t.Helper()
	srv, err := testlab.NewSSHServer()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	h.cfg.OpSSHPort = ln.Addr().(*net.TCPAddr).Port
	if err := remote.Pin(h.cfg.KnownHosts, ln.Addr().String(), srv.Signer.PublicKey()); err != nil {
		t.Fatal(err)
	}
	srv.Serve(ln, func(cmd string) func(ssh.Channel) int {
		return func(ch ssh.Channel) int { return answer(cmd, ch) }
	})
}

// askLANStep decides the run of a LAN path fault whose steps done are done
// (the fault seen once already), checks that it asks the router for want,
// saves it and carries it out as a cron run does. It returns the state
// the next run loads.
func askLANStep(t *testing.T, h *host, done string, held int, want assist.Step) rescue.State {
	t.Helper()
	store := h.store()
	now := testNow.In(h.loc)
	st := rescue.State{LANFault: rescue.LANPath, LANSeen: 1, LANSteps: done, LANHeld: held, DownSince: now.Add(-5 * time.Minute)}
	obs := rescue.Obs{Now: now, Uptime: 24 * time.Hour, BootID: "boot", NetKnown: true, NetDetail: "all down",
		RouterKnown: true, Router: rescue.Router{SelfKnown: true, SelfUp: true, Count: "0"}, GuardsKnown: true}
	step := rescue.Decide(h.cfg, st, obs)
	if step.Action != rescue.Assist || step.Assist != want {
		t.Fatalf("setup: step %v %q; want assist %s (%s)", step.Action, step.Assist, want, msgs(step))
	}
	if err := store.Save(st, step.Next); err != nil {
		t.Fatal(err)
	}
	h.carryOut(context.Background(), store, st, obs, step, remote.RouterState{})
	got, problems := store.Load(h.loc)
	if len(problems) > 0 {
		t.Fatalf("load: %v", problems)
	}
	return got
}

// TestLANAssistNeverSentNotTaken: a LAN step whose request never reached
// the router (the SSH connection refused; a full conntrack table times it
// out the same way) ran nothing. It was counted as tried: 08:10 network
// not sent, 08:15 reboot not sent, 08:20 "OpenWrt 侧的步骤都已尝试" and the
// PVE host rebooted with no router step ever run. Now it is said, taken
// off the steps done (the next run asks for it again), and told to
// neither the hook nor the owner as an assist.
func TestLANAssistNeverSentNotTaken(t *testing.T) {
	for _, tc := range []struct {
		done string
		step assist.Step
	}{
		{"", assist.Network},
		{"network", assist.Reboot}, // not sent: no reboot can have begun
	} {
		t.Run(string(tc.step), func(t *testing.T) {
			h, log, events := lanAssistHost(t)
			closedRouter(t, h)
			got := askLANStep(t, h, tc.done, 0, tc.step)
			if got.LANSteps != tc.done || got.LANHeld != 1 {
				t.Errorf("the %s step never reached the router, yet lan_steps = %q, lan_held = %d; want %q, 1", tc.step, got.LANSteps, got.LANHeld, tc.done)
			}
			for _, want := range []string{`msg="【LAN】-> [错误] 请求 OpenWrt 协助失败 (请求未送达，此步骤未执行)"`, "refused the SSH connection",
				`msg="【LAN】请求未送达 OpenWrt，此步骤不算已尝试，下次运行再请求。" step=` + string(tc.step) + " why=not-sent"} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if slices.Contains(*events, "assist") {
				t.Errorf("ON_EVENT_CMD heard %q; want no assist for a request never sent", *events)
			}
			queued, _ := h.queue().Load()
			for _, m := range queued {
				if m.Event == "assist" {
					t.Errorf("the owner is told %q; want no assist for a request never sent", m.Text)
				}
			}
			if !h.failed {
				t.Error("h.failed = false; want HEARTBEAT_URL's /fail for a step that could not be asked")
			}
			next := rescue.Decide(h.cfg, got, rescue.Obs{Now: testNow.Add(5 * time.Minute), Uptime: 24 * time.Hour, BootID: "boot", NetKnown: true,
				RouterKnown: true, Router: rescue.Router{SelfKnown: true, SelfUp: true, Count: "0"}, GuardsKnown: true})
			if next.Action != rescue.Assist || next.Assist != tc.step {
				t.Errorf("the next run: %v %q; want the %s step asked again (%s)", next.Action, next.Assist, tc.step, msgs(next))
			}
		})
	}
}

// TestLANAssistNeverSentBounded: a router that never takes a request holds
// the climb for LANHoldRuns runs of the fault, no longer: the host's own
// reboot, the last step, is not held for good, and the log says the step
// now counts.
func TestLANAssistNeverSentBounded(t *testing.T) {
	h, log, _ := lanAssistHost(t)
	closedRouter(t, h)
	got := askLANStep(t, h, "", rescue.LANHoldRuns, assist.Network)
	if got.LANSteps != "network" {
		t.Errorf("after %d requests not sent: lan_steps = %q; want network (the climb goes on)", rescue.LANHoldRuns, got.LANSteps)
	}
	if want := `msg="【LAN】OpenWrt 在本次故障中已多次未能执行请求，此步骤记为已尝试，下次运行继续下一步。" step=network why=not-sent`; !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
}

// TestLANAssistRouterConfigError: netcheck on the router refuses every
// request with exit 2 and no result line when its config is group-writable
// or mistyped. Nothing ran, yet the step was counted as done, up to the
// PVE host's reboot. Now the 【LAN】 line says it with the router-side fix
// (the router's own message, and its status command), and the step is
// not taken: asked again at the next run, told as no assist.
func TestLANAssistRouterConfigError(t *testing.T) {
	const why = "netcheck: config /etc/netrescue.conf: writable by group or others (mode 0664), but its *_CMD lines run as root; fix: chmod go-w /etc/netrescue.conf"
	for _, tc := range []struct {
		done string
		step assist.Step
	}{
		{"", assist.Network},
		{"network", assist.Reboot},
	} {
		t.Run(string(tc.step), func(t *testing.T) {
			h, log, events := lanAssistHost(t)
			var ran []string
			fakeRouter(t, h, func(cmd string, ch ssh.Channel) int {
				ran = append(ran, cmd)
				fmt.Fprintln(ch.Stderr(), why)
				return assist.ExitUsage
			})
			got := askLANStep(t, h, tc.done, 0, tc.step)
			if len(ran) != 1 || !strings.Contains(ran[0], " assist "+string(tc.step)+" ") {
				t.Fatalf("the router ran %q; want one assist %s", ran, tc.step)
			}
			if got.LANSteps != tc.done || got.LANHeld != 1 {
				t.Errorf("the router's netcheck refused the %s step (exit 2), yet lan_steps = %q, lan_held = %d; want %q, 1", tc.step, got.LANSteps, got.LANHeld, tc.done)
			}
			for _, want := range []string{
				"【LAN】-> [错误] OpenWrt 上的 netcheck 因配置错误拒绝执行，此步骤未执行：请在路由器上运行 '/usr/bin/netcheck' -config '/etc/netrescue.conf' status",
				"fix: chmod go-w /etc/netrescue.conf",
				`msg="【LAN】OpenWrt 的 netcheck 配置有误，此步骤不算已尝试，下次运行再请求。" step=` + string(tc.step) + " why=router-config",
			} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if strings.Contains(log.String(), "OpenWrt 正在重启") {
				t.Errorf("a reboot refused by the router's config read as the router rebooting:\n%s", log)
			}
			if slices.Contains(*events, "assist") {
				t.Errorf("ON_EVENT_CMD heard %q; want no assist for a step the router's config refused", *events)
			}
			queued, _ := h.queue().Load()
			for _, m := range queued {
				if m.Event == "assist" {
					t.Errorf("the owner is told %q; want no assist for a step the router's config refused", m.Text)
				}
			}
		})
	}
}

// TestLANAssistRebootSentStaysTaken: a reboot step whose command reached
// the router and whose session then ended with no answer is the router
// going down rebooting: it stays a step taken, told as an assist.
func TestLANAssistRebootSentStaysTaken(t *testing.T) {
	h, log, events := lanAssistHost(t)
	fakeRouter(t, h, func(string, ssh.Channel) int { return -1 })
	got := askLANStep(t, h, "network", 0, assist.Reboot)
	if got.LANSteps != "network,reboot" || got.LANHeld != 0 {
		t.Errorf("after a reboot that ended the session: lan_steps = %q, lan_held = %d; want network,reboot, 0", got.LANSteps, got.LANHeld)
	}
	if !strings.Contains(log.String(), "【LAN】-> OpenWrt 正在重启 (会话随重启结束)。") {
		t.Errorf("log lacks the router rebooting:\n%s", log)
	}
	if !slices.Contains(*events, "assist") {
		t.Errorf("ON_EVENT_CMD heard %q; want the assist", *events)
	}
}

// giveKey gives h an SSH key of its own in dir (id_ed25519) and a
// known_hosts file there to pin the router's key in.
func giveKey(t *testing.T, h *host, dir string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	h.cfg.SSHKey, h.cfg.KnownHosts = filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(h.cfg.SSHKey, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}
