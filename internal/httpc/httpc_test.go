package httpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// noEnv is an environment without proxy variables, whatever the machine's.
func noEnv(string) string { return "" }

// seen is what a test server received.
type seen struct {
	mu                    sync.Mutex
	method, uri, ua, ct   string
	host, body, proxyAuth string
	auth                  string
}

func recorder(s *seen, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.method, s.uri, s.ua, s.ct, s.host, s.body = r.Method, r.RequestURI, r.UserAgent(), r.Header.Get("Content-Type"), r.Host, string(b)
		s.proxyAuth, s.auth = r.Header.Get("Proxy-Authorization"), r.Header.Get("Authorization")
		s.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, "answer body")
	}
}

// TestDo sends GET and POST to a real net/http server (the other end of
// every notification service) and reads its status.
func TestDo(t *testing.T) {
	var s seen
	srv := httptest.NewServer(recorder(&s, http.StatusAccepted))
	defer srv.Close()
	c := Client{Getenv: noEnv, UserAgent: "netrescue-test/1"}
	resp, err := c.Do(context.Background(), Request{Method: "POST", URL: mustURL(t, srv.URL+"/hook?key=SECRET&x=1"),
		Header: []Field{{"Content-Type", "application/json"}}, Body: []byte(`{"text":"互联网已恢复"}`)})
	if err != nil || resp.StatusCode != 202 || resp.Status != "202 Accepted" || !resp.OK() {
		t.Fatalf("POST = %+v, %v; want 202 Accepted", resp, err)
	}
	if s.method != "POST" || s.uri != "/hook?key=SECRET&x=1" || s.ct != "application/json" || s.body != `{"text":"互联网已恢复"}` ||
		s.ua != "netrescue-test/1" || s.host != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("server saw %+v", &s)
	}
	srv.Config.Handler = recorder(&s, http.StatusNotFound)
	resp, err = Client{Getenv: noEnv}.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, srv.URL+"/ping/x")})
	if err != nil || resp.StatusCode != 404 || resp.Status != "404 Not Found" || resp.OK() {
		t.Fatalf("GET = %+v, %v; want 404 Not Found", resp, err)
	}
	if s.method != "GET" || s.uri != "/ping/x" || s.body != "" || s.ua != "netrescue" || s.auth != "" {
		t.Errorf("server saw %+v", &s)
	}
	// User information in the URL is sent as Basic authorization.
	u := mustURL(t, srv.URL+"/hook")
	u.User = url.UserPassword("owner", "SECRET pw")
	if _, err := (Client{Getenv: noEnv}).Do(context.Background(), Request{Method: "GET", URL: u}); err != nil || s.auth != "Basic b3duZXI6U0VDUkVUIHB3" {
		t.Errorf("GET with user:password = %v; server saw Authorization %q", err, s.auth)
	}
}

// TestTLS: https is checked against the roots given (the system's by
// default): a server whose certificate is not trusted is an error.
func TestTLS(t *testing.T) {
	var s seen
	srv := httptest.NewUnstartedServer(recorder(&s, http.StatusOK))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	// httptest's certificate is for example.com and 127.0.0.1.
	u := mustURL(t, srv.URL+"/bot123:SECRET/sendMessage")
	resp, err := Client{Getenv: noEnv, TLS: &tls.Config{RootCAs: pool}}.Do(context.Background(), Request{Method: "POST", URL: u, Body: []byte("x")})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("https POST = %+v, %v; want 200", resp, err)
	}
	if s.uri != "/bot123:SECRET/sendMessage" || s.body != "x" {
		t.Errorf("server saw %+v", &s)
	}
	_, err = Client{Getenv: noEnv}.Do(context.Background(), Request{Method: "GET", URL: u})
	if err == nil || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("https to an untrusted server = %v; want a certificate error without the secret", err)
	}
}

// TestDeadline: a server that accepts and never answers costs the
// context's deadline, no more, and the error says so.
func TestDeadline(t *testing.T) {
	addr := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) }) // reads, never answers
	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		ctx, cancel := tt.ctx()
		start := time.Now()
		_, err := Client{Getenv: noEnv}.Do(ctx, Request{Method: "GET", URL: mustURL(t, "http://"+addr+"/x")})
		cancel()
		if !errors.Is(err, tt.want) || time.Since(start) > 10*time.Second {
			t.Errorf("%s: Do = %v after %v; want %v soon after 200ms", tt.name, err, time.Since(start), tt.want)
		}
		if tt.want == context.DeadlineExceeded && !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("%s: error %q does not say the deadline passed", tt.name, err)
		}
	}
}

// TestRawAnswers: what a server can send back, byte for byte.
func TestRawAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, answer string
		code         int
		errWant      string
	}{
		{"1xx first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, ""},
		{"HTTP/1.0, no reason", "HTTP/1.0 500\r\n\r\n", 500, ""},
		{"bare LF", "HTTP/1.1 200 OK\nServer: x\n\n", 200, ""},
		{"header cut short", "HTTP/1.1 200 OK\r\nServer: x", 200, ""},
		{"not HTTP", "SSH-2.0-dropbear\r\n", 0, "not an HTTP/1.x answer"},
		{"HTTP/2 preface", "HTTP/2 200\r\n\r\n", 0, "not an HTTP/1.x answer"},
		{"closed at once", "", 0, "unexpected EOF"},
		{"endless status line", "HTTP/1.1 200 " + strings.Repeat("x", maxHead+10), 0, "unexpected EOF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := rawServer(t, func(c net.Conn) {
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, tt.answer)
			})
			resp, err := Client{Getenv: noEnv}.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, "http://"+addr+"/")})
			if tt.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWant) {
					t.Errorf("Do = %+v, %v; want an error with %q", resp, err, tt.errWant)
				}
				return
			}
			if err != nil || resp.StatusCode != tt.code {
				t.Errorf("Do = %+v, %v; want %d", resp, err, tt.code)
			}
		})
	}
}

// rawServer answers each connection with serve, on loopback.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// TestBadRequests are refused before anything is sent.
func TestBadRequests(t *testing.T) {
	for _, r := range []Request{
		{Method: "GET", URL: mustURL(t, "ftp://example.com/x")},
		{Method: "GET", URL: mustURL(t, "http:///x")},
		{Method: "GET"},
		{Method: "GET\r\nX: y", URL: mustURL(t, "http://127.0.0.1:9/")},
		{Method: "POST", URL: mustURL(t, "http://127.0.0.1:9/"), Header: []Field{{"Title", "a\r\nInjected: 1"}}},
		{Method: "POST", URL: mustURL(t, "http://127.0.0.1:9/"), Header: []Field{{"Bad Name", "x"}}},
	} {
		if _, err := (Client{Getenv: noEnv}).Do(context.Background(), r); err == nil || strings.Contains(err.Error(), "connect") {
			t.Errorf("Do(%+v) = %v; want it refused before dialling", r, err)
		}
	}
}

// proxy is an HTTP proxy on loopback that serves CONNECT tunnels and
// absolute-URI requests, and records what it was asked. It reaches the
// hosts of route (host:port → loopback address) and refuses the rest with
// 502, as a proxy does for a name it cannot resolve.
type proxy struct {
	addr  string
	route map[string]string
	mu    sync.Mutex
	got   []string // request lines
	auth  []string // Proxy-Authorization values
}

func startProxy(t *testing.T, route map[string]string) *proxy {
	p := &proxy{route: route}
	p.addr = rawServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		auth := ""
		var head []string
		for {
			h, err := br.ReadString('\n')
			if err != nil || strings.TrimSpace(h) == "" {
				break
			}
			if v, ok := strings.CutPrefix(h, "Proxy-Authorization: "); ok {
				auth = strings.TrimSpace(v)
			} else {
				head = append(head, h)
			}
		}
		p.mu.Lock()
		p.got, p.auth = append(p.got, strings.TrimSpace(line)), append(p.auth, auth)
		p.mu.Unlock()
		f := strings.Fields(line)
		if len(f) != 3 {
			return
		}
		dst := f[1]
		if f[0] != "CONNECT" {
			u, _ := url.Parse(f[1])
			dst = u.Host
		}
		up, err := net.Dial("tcp", p.route[dst])
		if p.route[dst] == "" || err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		if f[0] == "CONNECT" {
			io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		} else {
			u, _ := url.Parse(f[1])
			io.WriteString(up, f[0]+" "+u.RequestURI()+" "+f[2]+"\r\n"+strings.Join(head, "")+"\r\n")
		}
		go io.Copy(up, br)
		io.Copy(c, up)
	})
	return p
}

func (p *proxy) asked() ([]string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	got, auth := p.got, p.auth
	p.got, p.auth = nil, nil
	return got, auth
}

// TestProxy: HTTPS_PROXY tunnels https (CONNECT, then TLS end to end with
// the server), HTTP_PROXY forwards http, credentials in the proxy URL are
// sent as Proxy-Authorization, NO_PROXY and loopback bypass it, and a
// broken proxy setting is an error that names the variable.
func TestProxy(t *testing.T) {
	var s seen
	tlsSrv := httptest.NewTLSServer(recorder(&s, http.StatusOK))
	defer tlsSrv.Close()
	srv := httptest.NewServer(recorder(&s, http.StatusCreated))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(tlsSrv.URL, "https://"))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	// example.com is in httptest's certificate; neither name resolves
	// here: only the proxy reaches them.
	p := startProxy(t, map[string]string{
		"example.com:" + tlsPort: strings.TrimPrefix(tlsSrv.URL, "https://"),
		"example.net:" + port:    strings.TrimPrefix(srv.URL, "http://"),
	})
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	// Upper case first, as net/http (x/net/http/httpproxy.FromEnvironment).
	c := Client{TLS: &tls.Config{RootCAs: pool}, Getenv: env(map[string]string{"HTTPS_PROXY": "http://user:pa%20ss@" + p.addr, "https_proxy": "http://ignored:1"})}
	resp, err := c.Do(context.Background(), Request{Method: "POST", URL: mustURL(t, "https://example.com:"+tlsPort+"/hook?key=SECRET"), Body: []byte("via tunnel")})
	got, auth := p.asked()
	if err != nil || resp.StatusCode != 200 || s.body != "via tunnel" || s.uri != "/hook?key=SECRET" {
		t.Errorf("https through the proxy = %+v, %v; server saw %+v", resp, err, &s)
	}
	if len(got) != 1 || got[0] != "CONNECT example.com:"+tlsPort+" HTTP/1.1" || auth[0] != "Basic dXNlcjpwYSBzcw==" {
		t.Errorf("proxy asked %q %q; want one CONNECT with user:pa ss", got, auth)
	}

	c = Client{Getenv: env(map[string]string{"HTTP_PROXY": p.addr})}
	resp, err = c.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, "http://example.net:"+port+"/ping/SECRET")})
	got, auth = p.asked()
	if err != nil || resp.StatusCode != 201 || s.uri != "/ping/SECRET" || s.host != "example.net:"+port {
		t.Errorf("http through the proxy = %+v, %v; server saw %+v", resp, err, &s)
	}
	if len(got) != 1 || got[0] != "GET http://example.net:"+port+"/ping/SECRET HTTP/1.1" || auth[0] != "" {
		t.Errorf("proxy asked %q %q; want one absolute-URI GET, no credentials", got, auth)
	}

	// A host the proxy cannot reach: its answer is the error.
	c = Client{Getenv: env(map[string]string{"HTTPS_PROXY": "http://u:SECRETPW@" + p.addr})}
	_, err = c.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, "https://nowhere.example:443/SECRET")})
	p.asked()
	if err == nil || !strings.Contains(err.Error(), "502") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("tunnel refused: %v; want the proxy's 502, without secrets", err)
	}

	// Loopback never goes through a proxy (as with net/http) …
	c = Client{Getenv: env(map[string]string{"HTTP_PROXY": p.addr})}
	if _, err := c.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, srv.URL+"/direct")}); err != nil || s.uri != "/direct" {
		t.Errorf("loopback with HTTP_PROXY set: %v, server saw %q", err, s.uri)
	}
	if got, _ := p.asked(); len(got) != 0 {
		t.Errorf("loopback went through the proxy: %q", got)
	}
	// … nor what NO_PROXY names.
	for _, np := range []string{"*", "example.net", ".net:" + port} {
		c = Client{Getenv: env(map[string]string{"HTTP_PROXY": p.addr, "NO_PROXY": np})}
		if px, err := c.proxyFor(mustURL(t, "http://example.net:"+port+"/x")); px != nil || err != nil {
			t.Errorf("NO_PROXY=%q: proxy %v, %v; want none", np, px, err)
		}
	}

	for _, bad := range []string{"socks5://" + p.addr, "http://"} {
		c = Client{Getenv: env(map[string]string{"HTTPS_PROXY": bad})}
		_, err := c.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, "https://example.com/")})
		if err == nil || !strings.Contains(err.Error(), "HTTPS_PROXY") {
			t.Errorf("HTTPS_PROXY=%s: %v; want an error naming HTTPS_PROXY", bad, err)
		}
	}
}

// TestProxyRequestLine: through an HTTP proxy the request line is the
// absolute URI without the URL's user information and fragment, as
// net/http sends it: a password in the URL goes to the server as Basic
// authorization, never into the proxy's access log.
func TestProxyRequestLine(t *testing.T) {
	var s seen
	srv := httptest.NewServer(recorder(&s, http.StatusOK))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	p := startProxy(t, map[string]string{"example.net:" + port: strings.TrimPrefix(srv.URL, "http://")})
	raw := "http://owner:SECRET%20pw@example.net:" + port + "/ping/T0KEN?create=1#frag"
	const wantAuth = "Basic b3duZXI6U0VDUkVUIHB3" // owner:SECRET pw
	wantLine := "GET http://example.net:" + port + "/ping/T0KEN?create=1 HTTP/1.1"

	c := Client{Getenv: func(k string) string { return map[string]string{"HTTP_PROXY": p.addr}[k] }}
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: mustURL(t, raw)})
	got, proxyAuth := p.asked()
	if len(got) != 1 || got[0] != wantLine || proxyAuth[0] != "" {
		t.Errorf("proxy asked %q (Proxy-Authorization %q); want %q, none", got, proxyAuth, wantLine)
	}
	if err != nil || resp.StatusCode != 200 || s.uri != "/ping/T0KEN?create=1" || s.auth != wantAuth {
		t.Errorf("Do = %+v, %v; server saw %q with Authorization %q; want 200, /ping/T0KEN?create=1, %q", resp, err, s.uri, s.auth, wantAuth)
	}

	// net/http through the same proxy asks the same.
	pu := mustURL(t, "http://"+p.addr)
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	hresp, err := hc.Get(raw)
	if err != nil {
		t.Fatalf("net/http through the proxy: %v", err)
	}
	hresp.Body.Close()
	hc.CloseIdleConnections()
	if got, _ := p.asked(); len(got) != 1 || got[0] != wantLine || s.auth != wantAuth {
		t.Errorf("net/http asked the proxy %q, the server saw Authorization %q; httpc asked %q, %q", got, s.auth, wantLine, wantAuth)
	}
}

func TestNoProxy(t *testing.T) {
	for _, tt := range []struct {
		list, url string
		want      bool
	}{
		{"", "https://api.day.app/x", false},
		{"*", "https://api.day.app/x", true},
		{"day.app", "https://api.day.app/x", true},
		{".day.app", "https://api.day.app/x", true},
		{"*.day.app", "https://api.day.app/x", true}, // as net/http: "*.domain" is ".domain"
		{"*.day.app", "https://day.app/x", true},
		{"*.day.app", "https://notday.app/x", false},
		{"ay.app", "https://api.day.app/x", false},
		{"api.day.app:443", "https://api.day.app/x", true},
		{"api.day.app:8443", "https://api.day.app/x", false},
		{" foo , API.DAY.APP ", "https://api.day.app/x", true},
		{"10.0.0.0/8", "http://10.1.2.3:8080/x", true},
		{"10.0.0.0/8", "http://192.0.2.1/x", false},
		{"192.0.2.1", "http://192.0.2.1/x", true},
		{"[2001:db8::1]", "http://[2001:db8::1]:80/x", true},
		{"", "http://127.0.0.1:9/x", true},
		{"", "http://localhost/x", true},
	} {
		if got := noProxy(tt.list, mustURL(t, tt.url)); got != tt.want {
			t.Errorf("noProxy(%q, %s) = %v; want %v", tt.list, tt.url, got, tt.want)
		}
	}
}

// FuzzParseStatusLine: any line parses or is refused, never a panic, and
// what parses has a 3-digit status.
func FuzzParseStatusLine(f *testing.F) {
	for _, s := range []string{"HTTP/1.1 200 OK\r\n", "HTTP/1.0 404\n", "HTTP/1.1 999 x y z", "HTTP/2 200", "HTTP/1.1 20 OK", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseStatusLine(line)
		if err == nil && (r.StatusCode < 100 || r.StatusCode > 999) {
			t.Errorf("ParseStatusLine(%q) = %+v", line, r)
		}
	})
}
