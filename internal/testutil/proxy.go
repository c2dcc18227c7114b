package testutil

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a TCP proxy a test puts between the server and its database, to
// cut the connection and restore it.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	cut     bool
	hang    bool
	frozen  bool // live connections stay open, but nothing reaches the server
	conns   map[net.Conn]struct{}
	stalled []net.Conn
	flights int // see Flights
}

// NewProxy forwards a local port to target until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
	})
	return p
}

// Proxied returns dbURL (a PostgreSQL URL) routed through a new proxy, and
// the proxy.
func Proxied(t testing.TB, dbURL string) (string, *Proxy) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	return u.String(), proxy
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut drops every connection and refuses new ones, as a dead network would
// with a reset.
func (p *Proxy) Cut() { p.sever(false) }

// Hang drops every connection and accepts new ones without ever answering,
// as a black-holed network would.
func (p *Proxy) Hang() { p.sever(true) }

func (p *Proxy) sever(hang bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.hang = true, hang
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Freeze keeps every connection open but stops forwarding what the client
// sends, as a network that goes silent under a live connection would.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// Restore forwards again. Connections that were frozen are dropped: what
// was swallowed left them out of step with the server.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
	p.cut, p.hang, p.frozen = false, false, false
	for _, c := range p.stalled {
		_ = c.Close()
	}
	p.stalled = nil
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut, hang := p.cut, p.hang
		if hang {
			p.stalled = append(p.stalled, c)
		}
		p.mu.Unlock()
		switch {
		case hang:
		case cut:
			_ = c.Close()
		default:
			go p.forward(c)
		}
	}
}

// Flights is how many times so far a client sent something after the
// server last answered it, on any connection: the round trips that reached
// the server, however many statements each carried.
func (p *Proxy) Flights() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flights
}

func (p *Proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var answered atomic.Bool // the server spoke last on this connection
	answered.Store(true)
	go func() { p.copyUnlessFrozen(up, c, &answered); _ = up.Close() }()
	_, _ = io.Copy(c, answering{up, &answered})
	_ = c.Close()
}

// answering is the server's side of a connection, noting when it speaks.
type answering struct {
	net.Conn
	answered *atomic.Bool
}

func (a answering) Read(b []byte) (int, error) {
	n, err := a.Conn.Read(b)
	if n > 0 {
		a.answered.Store(true)
	}
	return n, err
}

// copyUnlessFrozen copies what the client sends to the server, dropping it
// while the proxy is frozen.
func (p *Proxy) copyUnlessFrozen(up, c net.Conn, answered *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen := p.frozen
			if answered.Swap(false) {
				p.flights++
			}
			p.mu.Unlock()
			if !frozen {
				if _, werr := up.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
