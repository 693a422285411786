// The listening Server's HTTP/1.1: one goroutine per connection reads a
// request (request line, the few headers that matter, a Content-Length or
// chunked body) into reused buffers and writes the answer with one write.
// net/http's server cost the sink about a third of its CPU per call (its
// header maps, MIME parsing, Date header and per-connection background
// reader), the one part of the sink's cost besides the kernel's that does
// not depend on the publisher. Calls the lean path does not serve go to
// the double through an http.Request built here.

package benchsink

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// listener accepts connections and owns their goroutines.
type listener struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	done  bool
}

func (s *Server) serve(l *listener) {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.done {
			l.mu.Unlock()
			c.Close()
			return
		}
		l.conns[c] = struct{}{}
		s.connections.Add(1)
		l.wg.Add(1)
		l.mu.Unlock()
		go func() {
			defer l.wg.Done()
			s.serveConn(c)
			l.mu.Lock()
			delete(l.conns, c)
			l.mu.Unlock()
		}()
	}
}

// close stops accepting, closes every connection and waits for their
// goroutines.
func (l *listener) close() {
	l.mu.Lock()
	l.done = true
	l.ln.Close()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// httpRequest is what serveConn keeps of a request.
type httpRequest struct {
	method, target []byte
	contentType    []byte
	length         int // -1: none given
	chunked        bool
	close          bool
	expect         bool // Expect: 100-continue
}

var errBadRequest = errors.New("malformed HTTP request")

// connBuffers are a connection's reader and writer, pooled: a client that
// opens a connection per call (an HTTP client with few idle connections)
// must not cost the sink two new buffers each time.
type connBuffers struct {
	r   *bufio.Reader
	w   *bufio.Writer
	hdr []byte
}

var connPool = sync.Pool{New: func() any {
	return &connBuffers{r: bufio.NewReaderSize(nil, 64<<10), w: bufio.NewWriterSize(nil, 16<<10)}
}}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	cb := connPool.Get().(*connBuffers)
	cb.r.Reset(c)
	cb.w.Reset(c)
	defer func() {
		cb.r.Reset(nil)
		cb.w.Reset(nil)
		connPool.Put(cb)
	}()
	br, bw := cb.r, cb.w
	hdr := cb.hdr[:0]
	defer func() { cb.hdr = hdr }()
	for {
		var req httpRequest
		if err := readHead(br, &req); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				writeHTTP(bw, http.StatusBadRequest, nil, nil)
				bw.Flush()
			}
			return
		}
		if req.expect {
			bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if bw.Flush() != nil {
				return
			}
		}
		wk := s.pool.Get().(*work)
		body, err := readHTTPBody(br, &req, wk.body[:0])
		wk.body = body[:0]
		if err != nil {
			s.pool.Put(wk)
			writeHTTP(bw, http.StatusBadRequest, nil, nil)
			bw.Flush()
			return
		}
		status, ok := s.answer(wk, body)
		if ok {
			hdr = writeHTTP(bw, status, hdr[:0], wk.out)
		} else {
			hdr = s.delegateHTTP(bw, &req, body, hdr[:0])
		}
		s.pool.Put(wk)
		if bw.Flush() != nil || req.close {
			return
		}
	}
}

// readHead reads the request line and headers.
func readHead(br *bufio.Reader, req *httpRequest) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	f := bytes.Fields(line)
	if len(f) != 3 || !bytes.HasPrefix(f[2], []byte("HTTP/1.")) {
		return errBadRequest
	}
	// The slices point into br's buffer until the next read: copy.
	req.method, req.target = bytes.Clone(f[0]), bytes.Clone(f[1])
	req.close = string(f[2]) == "HTTP/1.0"
	req.length = -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return errBadRequest
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return errBadRequest
			}
			req.length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			req.chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			req.close = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("Expect")):
			req.expect = bytes.EqualFold(value, []byte("100-continue"))
		case bytes.EqualFold(name, []byte("Content-Type")):
			req.contentType = bytes.Clone(value)
		}
	}
}

// maxBody bounds a request body: SNS takes 256 KiB of messages per call,
// percent-encoding at most triples it.
const maxBody = 8 << 20

// readHTTPBody reads req's body into buf.
func readHTTPBody(br *bufio.Reader, req *httpRequest, buf []byte) ([]byte, error) {
	if !req.chunked {
		n := max(req.length, 0)
		if n > maxBody {
			return buf, fmt.Errorf("body of %d bytes", n)
		}
		if cap(buf) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		_, err := io.ReadFull(br, buf)
		return buf, err
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return buf, err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte{';'})
		n, err := strconv.ParseInt(string(size), 16, 32)
		if err != nil || n < 0 || len(buf)+int(n) > maxBody {
			return buf, errBadRequest
		}
		if n == 0 {
			for { // trailers, up to the empty line
				l, err := br.ReadSlice('\n')
				if err != nil {
					return buf, err
				}
				if len(bytes.TrimRight(l, "\r\n")) == 0 {
					return buf, nil
				}
			}
		}
		start := len(buf)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(br, buf[start:]); err != nil {
			return buf, err
		}
		if _, err := br.Discard(2); err != nil { // CRLF
			return buf, err
		}
	}
}

// writeHTTP writes an answer with an XML body (none for a bare error) and
// returns hdr, the header buffer, for reuse.
func writeHTTP(bw *bufio.Writer, status int, hdr, body []byte) []byte {
	hdr = append(hdr, "HTTP/1.1 "...)
	hdr = strconv.AppendInt(hdr, int64(status), 10)
	hdr = append(hdr, ' ')
	hdr = append(hdr, http.StatusText(status)...)
	hdr = append(hdr, "\r\nContent-Type: text/xml\r\nContent-Length: "...)
	hdr = strconv.AppendInt(hdr, int64(len(body)), 10)
	hdr = append(hdr, "\r\n\r\n"...)
	bw.Write(hdr)
	bw.Write(body)
	return hdr
}

// delegateHTTP serves a call through the double (ServeHTTP's delegate).
func (s *Server) delegateHTTP(bw *bufio.Writer, req *httpRequest, body, hdr []byte) []byte {
	r, err := http.NewRequest(string(req.method), "http://sink"+string(req.target), bytes.NewReader(body))
	if err != nil {
		return writeHTTP(bw, http.StatusBadRequest, hdr, nil)
	}
	if req.contentType != nil {
		r.Header.Set("Content-Type", string(req.contentType))
	}
	rec := &recorder{header: http.Header{}}
	s.delegate(rec, r, body)
	return writeHTTP(bw, cmp.Or(rec.status, http.StatusOK), hdr, rec.body.Bytes())
}
