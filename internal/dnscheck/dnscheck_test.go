package dnscheck

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// server answers every query on a loopback UDP port as reply says; the
// packets are RFC 1035 messages built with x/net's dnsmessage, the format
// a forwarder such as dnsmasq sends back.
func server(t *testing.T, reply func(q dnsmessage.Message) *dnsmessage.Message) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			if r := reply(q); r != nil {
				b, _ := r.Pack()
				pc.WriteTo(b, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func response(q dnsmessage.Message, rcode dnsmessage.RCode, answers ...dnsmessage.Resource) *dnsmessage.Message {
	return &dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, RCode: rcode, RecursionAvailable: true},
		Questions: q.Questions, Answers: answers}
}

func aRecord(q dnsmessage.Message) dnsmessage.Resource {
	return dnsmessage.Resource{Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
		Body: &dnsmessage.AResource{A: [4]byte{198, 51, 100, 1}}}
}

func TestResolve(t *testing.T) {
	for _, tt := range []struct {
		name    string
		reply   func(q dnsmessage.Message) *dnsmessage.Message
		wantErr string
	}{
		{"an address", func(q dnsmessage.Message) *dnsmessage.Message {
			return response(q, dnsmessage.RCodeSuccess, aRecord(q))
		}, ""},
		{"NXDOMAIN", func(q dnsmessage.Message) *dnsmessage.Message { return response(q, dnsmessage.RCodeNameError) }, "answered RCodeNameError"},
		{"SERVFAIL (upstream dead)", func(q dnsmessage.Message) *dnsmessage.Message { return response(q, dnsmessage.RCodeServerFailure) }, "RCodeServerFailure"},
		{"no record", func(q dnsmessage.Message) *dnsmessage.Message { return response(q, dnsmessage.RCodeSuccess) }, "no address in the answer"},
		{"silence", func(dnsmessage.Message) *dnsmessage.Message { return nil }, "no answer for www.example.test"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := server(t, tt.reply)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err := Resolve(ctx, addr, "www.example.test")
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve = %v; want %q", err, tt.wantErr)
			}
		})
	}
	// Nothing listens: the port-unreachable answer ends it at once.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	addr := pc.LocalAddr().String()
	pc.Close()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := Resolve(ctx, addr, "www.example.test"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("no server: Resolve = %v; want connection refused", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("no server: took %v; want the refusal at once", time.Since(start))
	}
}

// TestAnswerOtherID: a response to another query (another id) is not ours.
func TestAnswerOtherID(t *testing.T) {
	q, id, err := query("www.example.test")
	if err != nil {
		t.Fatal(err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(q); err != nil {
		t.Fatal(err)
	}
	r := response(m, dnsmessage.RCodeSuccess, aRecord(m))
	r.ID = id + 1
	b, _ := r.Pack()
	if _, err := Answer(b, id); err == nil {
		t.Errorf("Answer of another id: no error")
	}
	r.ID = id
	b, _ = r.Pack()
	if refusal, err := Answer(b, id); refusal != nil || err != nil {
		t.Errorf("Answer = %v, %v; want an address", refusal, err)
	}
}

// FuzzAnswer: no packet from the network makes Answer panic.
func FuzzAnswer(f *testing.F) {
	q, id, _ := query("www.example.test")
	var m dnsmessage.Message
	_ = m.Unpack(q)
	for _, r := range []*dnsmessage.Message{response(m, dnsmessage.RCodeSuccess, aRecord(m)), response(m, dnsmessage.RCodeNameError)} {
		b, _ := r.Pack()
		f.Add(b, id)
	}
	f.Fuzz(func(t *testing.T, pkt []byte, id uint16) { _, _ = Answer(pkt, id) })
}
