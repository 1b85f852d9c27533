// Package httpc sends one HTTP/1.1 request and reads the status of the
// answer: all that notifications and heartbeats need (SPEC §9, §16).
//
// hostcheck used net/http for that. Linking net/http's client (HTTP/2,
// connection pools, cookies, redirects, multipart …) made every hostcheck
// run — 288 a day, nearly all of them healthy and sending nothing — load
// and fault in ~750 KB more of binary (SPEC §12: hostcheck's peak RSS and
// time against the floor). This client is a dialer, TLS and two lines of
// protocol; like net/http's default client it honours HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY. It does not follow redirects: a 3xx is the
// status the caller reports.
package httpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Field is one header field of a request.
type Field struct{ Name, Value string }

// Request is one request: Body is sent with its Content-Length (for POST
// and PUT also when empty).
type Request struct {
	Method string
	URL    *url.URL
	Header []Field
	Body   []byte
}

// Response is what callers read of an answer: its status.
type Response struct {
	StatusCode int
	Status     string // "404 Not Found"
}

// OK reports a 2xx status.
func (r Response) OK() bool { return r.StatusCode >= 200 && r.StatusCode <= 299 }

// Doer sends a request within ctx. Client is the real one; tests pass
// fakes.
type Doer interface {
	Do(ctx context.Context, r Request) (Response, error)
}

// Client sends requests over TCP, with TLS for https. The zero value is
// what hostcheck uses.
type Client struct {
	// TLS is the TLS configuration (the system's roots when nil); the
	// server name is always the URL's host.
	TLS *tls.Config
	// Getenv reads the proxy variables (os.Getenv when nil).
	Getenv func(string) string
	// UserAgent is sent as User-Agent ("netrescue" when empty).
	UserAgent string
}

// maxHead bounds what is read of an answer: its status line and, for a
// 1xx answer or a proxy's CONNECT answer, its header.
const maxHead = 64 << 10

// Do sends r and returns the status of the answer. The connection is
// closed afterwards (Connection: close): a cron-run program sends one
// request per run at most. Errors never hold the URL's path or query (where
// services put their secrets); they name the host.
func (c Client) Do(ctx context.Context, r Request) (Response, error) {
	u := r.URL
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return Response{}, errors.New("not an http(s) URL with a host")
	}
	if r.Method == "" || strings.ContainsAny(r.Method, "\r\n :/") {
		return Response{}, fmt.Errorf("method %q: not a valid method", r.Method)
	}
	for _, f := range r.Header {
		if f.Name == "" || strings.ContainsAny(f.Name, "\r\n: ") || strings.ContainsAny(f.Value, "\r\n") {
			return Response{}, fmt.Errorf("header field %q: not a valid name or value", f.Name)
		}
	}
	target := hostPort(u)
	proxy, err := c.proxyFor(u)
	if err != nil {
		return Response{}, err
	}
	addr := target
	if proxy != nil {
		addr = hostPort(proxy)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return Response{}, c.fail(ctx, err)
	}
	defer conn.Close()
	// The context bounds every read and write: its end (deadline, a
	// signal, a caller's cancel) stops them at once, and the error then
	// is the context's.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if proxy != nil && u.Scheme == "https" {
		if err := connect(conn, proxy, target); err != nil {
			return Response{}, c.fail(ctx, err)
		}
	}
	if u.Scheme == "https" {
		cfg := &tls.Config{}
		if c.TLS != nil {
			cfg = c.TLS.Clone()
		}
		cfg.ServerName = u.Hostname()
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return Response{}, c.fail(ctx, err)
		}
		conn = tc
	}
	var b strings.Builder
	requestURI := u.RequestURI()
	if proxy != nil && u.Scheme == "http" && u.Opaque == "" {
		// A proxy is asked for the absolute URI, as net/http asks it:
		// without the user information (sent as Authorization below)
		// and the fragment, which no server is sent and a proxy would log.
		requestURI = u.Scheme + "://" + u.Host + requestURI
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", r.Method, requestURI, u.Host, cmpOr(c.UserAgent, "netrescue"))
	if proxy != nil && u.Scheme == "http" {
		if auth := proxyAuth(proxy); auth != "" {
			b.WriteString("Proxy-Authorization: " + auth + "\r\n")
		}
	}
	if u.User != nil { // https://user:password@host/…, as net/http sends it
		b.WriteString("Authorization: " + proxyAuth(u) + "\r\n")
	}
	for _, f := range r.Header {
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	if len(r.Body) > 0 || r.Method == "POST" || r.Method == "PUT" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(r.Body)) + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(conn, b.String()+string(r.Body)); err != nil {
		return Response{}, c.fail(ctx, err)
	}
	br := bufio.NewReader(io.LimitReader(conn, maxHead))
	for {
		resp, err := readHead(br)
		if err != nil {
			return Response{}, c.fail(ctx, err)
		}
		// 1xx answers (100 Continue, 103 Early Hints) come before the
		// real one; 101 would switch protocols, which we never ask for.
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == 101 {
			return resp, nil
		}
	}
}

// fail is err, or the context's error once it has ended (a deadline then
// reads "context deadline exceeded", not "i/o timeout").
func (c Client) fail(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

// connect asks an HTTP proxy on conn for a tunnel to target (host:port).
func connect(conn net.Conn, proxy *url.URL, target string) error {
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if auth := proxyAuth(proxy); auth != "" {
		req += "Proxy-Authorization: " + auth + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return fmt.Errorf("proxy %s: %w", proxy.Host, err)
	}
	// Read byte by byte up to the blank line, so that nothing of the
	// tunnel (the TLS handshake) is read into a buffer and lost.
	br := bufio.NewReaderSize(&oneByte{r: io.LimitReader(conn, maxHead)}, 16)
	resp, err := readHead(br)
	if err != nil {
		return fmt.Errorf("proxy %s: %w", proxy.Host, err)
	}
	if !resp.OK() {
		return fmt.Errorf("proxy %s refused the tunnel to %s: HTTP %s", proxy.Host, target, resp.Status)
	}
	return nil
}

// oneByte reads at most one byte per Read, so that a bufio.Reader over it
// never reads past what it returns.
type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// readHead reads a status line and the header after it, up to the blank
// line; only the status is kept.
func readHead(br *bufio.Reader) (Response, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Response{}, fmt.Errorf("read the answer: %w", err)
	}
	resp, err := ParseStatusLine(line)
	if err != nil {
		return Response{}, err
	}
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			// The header ended with the connection: the status is known.
			return resp, nil
		}
		if strings.TrimRight(h, "\r\n") == "" {
			return resp, nil
		}
	}
}

// ParseStatusLine parses an HTTP/1.x status line ("HTTP/1.1 200 OK\r\n",
// RFC 9112 §4; the reason may be empty).
func ParseStatusLine(line string) (Response, error) {
	l := strings.TrimRight(line, "\r\n")
	proto, rest, ok := strings.Cut(l, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") || len(proto) != len("HTTP/1.1") {
		return Response{}, fmt.Errorf("not an HTTP/1.x answer: %q", truncate(l, 40))
	}
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		return Response{}, fmt.Errorf("not an HTTP status: %q", truncate(l, 40))
	}
	return Response{StatusCode: n, Status: strings.TrimSpace(rest)}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// hostPort is the URL's host and port, the scheme's port when none is
// given.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// proxyAuth is the (Proxy-)Authorization value of a URL with user
// information: Basic, as net/http sends it ("" without).
func proxyAuth(p *url.URL) string {
	if p.User == nil {
		return ""
	}
	pw, _ := p.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(p.User.Username()+":"+pw))
}

// proxyFor is the proxy for u, nil for none: HTTPS_PROXY for https and
// HTTP_PROXY for http (either in lower case too, upper case first, as
// net/http reads them: x/net/http/httpproxy's FromEnvironment), unless
// NO_PROXY covers u's host. A proxy without
// a scheme is http://; only http proxies are supported.
func (c Client) proxyFor(u *url.URL) (*url.URL, error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := func(name string) string { return cmpOr(getenv(name), getenv(strings.ToLower(name))) }
	raw := env("HTTP_PROXY")
	if u.Scheme == "https" {
		raw = env("HTTPS_PROXY")
	}
	if raw == "" || noProxy(env("NO_PROXY"), u) {
		return nil, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	p, err := url.Parse(raw)
	if err != nil || p.Hostname() == "" {
		return nil, fmt.Errorf("the %s_PROXY in the environment is not a proxy URL", strings.ToUpper(u.Scheme))
	}
	if p.Scheme != "http" {
		return nil, fmt.Errorf("the %s_PROXY in the environment is a %s:// proxy; only http:// proxies are supported", strings.ToUpper(u.Scheme), p.Scheme)
	}
	return p, nil
}

// noProxy reports whether the NO_PROXY list covers u's host: "*", an IP
// address or CIDR range, a host name (its subdomains too), ".domain" or
// "*.domain", each with an optional ":port".
func noProxy(list string, u *url.URL) bool {
	host, port := strings.ToLower(u.Hostname()), hostPort(u)
	_, port, _ = net.SplitHostPort(port)
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return true // as net/http: never through a proxy
	}
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
			continue
		case e == "*":
			return true
		}
		if _, n, err := net.ParseCIDR(e); err == nil {
			if ip != nil && n.Contains(ip) {
				return true
			}
			continue
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if p != port {
				continue
			}
			e = h
		}
		e = strings.Trim(e, "[]")
		if eip := net.ParseIP(e); eip != nil {
			if ip != nil && eip.Equal(ip) {
				return true
			}
			continue
		}
		d := strings.TrimPrefix(strings.TrimPrefix(e, "*"), ".")
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
