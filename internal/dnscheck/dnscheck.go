// Package dnscheck asks one DNS server for one name (SPEC §14: DNS_CHECK
// against the router's forwarder at OP_IP:53). It sends a single query and
// reads the single answer itself, so that nothing else answers for the
// router: no /etc/hosts, no resolv.conf, no search domains, no other server.
package dnscheck

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Resolve asks server (host:port) for name's A record within ctx: nil when
// the server answered with at least one address (or an alias), an error
// saying what it answered otherwise. The query is sent again every
// second while ctx allows, as a stub resolver does over UDP.
func Resolve(ctx context.Context, server, name string) error {
	q, id, err := query(name)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return fmt.Errorf("dns %s: %w", server, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 1232)
	for {
		if _, err := conn.Write(q); err != nil {
			return fmt.Errorf("dns %s: %w", server, err)
		}
		conn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, err := conn.Read(buf)
			if ctx.Err() != nil {
				return fmt.Errorf("dns %s: no answer for %s: %w", server, name, ctx.Err())
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break // ask again
			}
			if err != nil {
				return fmt.Errorf("dns %s: %w", server, err)
			}
			ok, err := Answer(buf[:n], id)
			if err != nil {
				continue // not the answer to our query
			}
			if ok != nil {
				return fmt.Errorf("dns %s: %s: %w", server, name, ok)
			}
			return nil
		}
	}
}

// query builds a recursive A query for name with a random id.
func query(name string) ([]byte, uint16, error) {
	fqdn := strings.TrimSuffix(name, ".") + "."
	n, err := dnsmessage.NewName(fqdn)
	if err != nil {
		return nil, 0, fmt.Errorf("dns: name %q: %w", name, err)
	}
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, 0, fmt.Errorf("dns: id: %w", err)
	}
	id := binary.BigEndian.Uint16(b[:])
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	q, err := msg.Pack()
	if err != nil {
		return nil, 0, fmt.Errorf("dns: pack: %w", err)
	}
	return q, id, nil
}

// ErrNoAnswer is an answer without a record for the name.
var ErrNoAnswer = errors.New("no address in the answer")

// Answer reads a response to the query with id: a non-nil first result is
// what the server said that is not an address (an error code, no record);
// err means the packet is no response to that query.
func Answer(pkt []byte, id uint16) (refusal error, err error) {
	var p dnsmessage.Parser
	h, err := p.Start(pkt)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	if !h.Response || h.ID != id {
		return nil, errors.New("dns: not the response to our query")
	}
	if h.RCode != dnsmessage.RCodeSuccess {
		return fmt.Errorf("the server answered %v", h.RCode), nil
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	for {
		ah, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return ErrNoAnswer, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dns: %w", err)
		}
		switch ah.Type {
		case dnsmessage.TypeA, dnsmessage.TypeAAAA, dnsmessage.TypeCNAME:
			return nil, nil
		}
		if err := p.SkipAnswer(); err != nil {
			return nil, fmt.Errorf("dns: %w", err)
		}
	}
}
