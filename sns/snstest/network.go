// The double on an in-memory network: a real http.Server over net.Pipe
// connections, for tests of what happens on the connections themselves
// (pooled connections reused, a response-header timeout abandoning a hung
// one, redials, refused dials) with a real http.Transport, inside a
// testing/synctest bubble, where sockets cannot be used. A hung SNS is a
// Fault with a long Latency (the request holds its connection until the
// client gives up on it); a refused one is Refuse.

package snstest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// Network serves a Server over in-memory connections. Pass DialContext to
// the client's transport (every address reaches the Server). Safe for
// concurrent use; Close it when done.
type Network struct {
	srv     *http.Server
	accept  chan net.Conn
	closed  chan struct{}
	closeMu sync.Once
	served  chan struct{}

	mu     sync.Mutex
	refuse bool
	dials  int
	open   map[net.Conn]struct{} // the server's ends
}

// Network starts serving s over in-memory connections.
func (s *Server) Network() *Network {
	n := &Network{accept: make(chan net.Conn), closed: make(chan struct{}), served: make(chan struct{}),
		open: make(map[net.Conn]struct{})}
	n.srv = &http.Server{Handler: s, ConnState: n.track}
	go func() {
		defer close(n.served)
		_ = n.srv.Serve(pipeListener{n})
	}()
	return n
}

// DialContext connects to the Server, or fails as a refused connection
// while Refuse is on.
func (n *Network) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	n.mu.Lock()
	n.dials++
	refuse := n.refuse
	n.mu.Unlock()
	if refuse {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	client, server := net.Pipe()
	select {
	case n.accept <- server:
		return client, nil
	case <-ctx.Done():
	case <-n.closed:
	}
	client.Close()
	server.Close()
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

// Refuse turns refusing connections on (closing the open ones, as a
// server going away does) or off.
func (n *Network) Refuse(on bool) {
	n.mu.Lock()
	n.refuse = on
	var conns []net.Conn
	if on {
		for c := range n.open {
			conns = append(conns, c)
		}
	}
	n.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Dials returns how many connections were dialled, refused ones included.
func (n *Network) Dials() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials
}

// Open returns how many connections are open.
func (n *Network) Open() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.open)
}

// Close stops serving and closes every connection.
func (n *Network) Close() {
	n.closeMu.Do(func() { close(n.closed) })
	n.srv.Close()
	<-n.served
}

func (n *Network) track(c net.Conn, st http.ConnState) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch st {
	case http.StateNew:
		n.open[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(n.open, c)
	}
}

// pipeListener hands the server the server ends of dialled pipes.
type pipeListener struct{ n *Network }

func (l pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.n.accept:
		return c, nil
	case <-l.n.closed:
		return nil, net.ErrClosed
	}
}

func (l pipeListener) Close() error {
	l.n.closeMu.Do(func() { close(l.n.closed) })
	return nil
}

func (l pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "snstest" }
