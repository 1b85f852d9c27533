package testlab

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"net"

	"golang.org/x/crypto/ssh"
)

// SSHServer is an SSH server of x/crypto/ssh for tests of what Dropbear
// cannot be made to do (refuse an exec request, answer a chosen exit
// status, end a session with none). It accepts any client key.
type SSHServer struct {
	// Signer is its fresh ed25519 host key, for the client to pin.
	Signer ssh.Signer
	srv    *ssh.ServerConfig
}

// NewSSHServer makes a server with a fresh ed25519 host key.
func NewSSHServer() (*SSHServer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	srv := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	srv.AddHostKey(signer)
	return &SSHServer{Signer: signer, srv: srv}, nil
}

// Serve serves ln until it is closed (in its own goroutines; it returns at
// once). Each session's exec request goes to exec: nil refuses it (the
// command never runs); else the request is accepted and run(ch) writes
// what the command would and returns its exit status, or -1 to end the
// session with none (a router going down rebooting). Other requests are
// refused.
func (s *SSHServer) Serve(ln net.Listener, exec func(cmd string) (run func(ch ssh.Channel) int)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.conn(c, exec)
		}
	}()
}

func (s *SSHServer) conn(c net.Conn, exec func(cmd string) func(ch ssh.Channel) int) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, s.srv)
	if err != nil {
		return
	}
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		for req := range creqs {
			var run func(ch ssh.Channel) int
			if p := req.Payload; req.Type == "exec" && len(p) >= 4 && int(binary.BigEndian.Uint32(p)) <= len(p)-4 {
				run = exec(string(p[4 : 4+binary.BigEndian.Uint32(p)]))
			}
			_ = req.Reply(run != nil, nil)
			if run == nil {
				continue
			}
			if code := run(ch); code >= 0 {
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
			}
			break
		}
		ch.Close()
	}
}
