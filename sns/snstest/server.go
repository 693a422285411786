// The double's server: its options, the HTTP and in-process transports,
// routing of Query requests (form-encoded POST, Action=...) to the action
// that answers them (topics.go, publish.go, publish_batch.go), SNS's XML
// answers and error documents, and what tests inspect (Messages, Count,
// Calls). Faults are in faults.go, quotas in quota.go, the in-memory
// network in network.go.

// Package snstest is an in-process Amazon SNS double for tests and
// benchmarks. It speaks the AWS Query protocol the real SDK client uses
// (form-encoded POST, XML answers) for CreateTopic, DeleteTopic,
// GetTopicAttributes, Publish and PublishBatch, keeps SNS's rules for those
// actions, records what each topic accepted, injects faults and enforces
// per-topic quotas (messages per second, past which entries are Throttled).
//
// Serve it over loopback TCP (NewServer, URL), without sockets
// (HTTPClient), or over in-memory connections (Network) for a real
// http.Transport; the last two also work inside a testing/synctest bubble.
package snstest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits SNS applies and the double keeps. A topic's default
// MaximumMessageSize is sns.DefaultMaxMessageSize.
const (
	MaxBatchEntries       = 10
	MaxBatchEntryIDLength = 80
	DedupWindow           = 5 * time.Minute
)

// Options configure a Server.
type Options struct {
	// Region and AccountID make up topic ARNs. Defaults "us-east-1" and
	// "123456789012".
	Region    string
	AccountID string
	// CountOnly keeps counts but not messages (Messages returns nothing), so
	// the double can sink benchmark traffic cheaply.
	CountOnly bool
	// OnAccept, when set, is called for every message a topic accepts (with
	// or without CountOnly), at the moment it is accepted, which is when the
	// answer that acknowledges it is being written: after any injected
	// Latency, before the response is sent. A FIFO repeat the topic drops as
	// a duplicate is not passed. It runs with the server's lock held, so it
	// must be quick and must not call the Server; m is valid only during
	// the call. Benchmarks use it to time end-to-end latency.
	OnAccept func(m *Message)
	// Quota, when set, limits every topic to so many messages per second
	// (quota.go); SetQuota changes one topic's.
	Quota Quota
}

// Server is the SNS double. Safe for concurrent use.
type Server struct {
	// URL is the endpoint for the SDK's BaseEndpoint (empty when not
	// listening).
	URL string

	opts   Options
	ts     *httptest.Server
	mu     sync.Mutex
	topics map[string]*topic
	faults []*Fault
	calls  map[string]int
	nextID atomic.Uint64
}

// New returns a Server that does not listen; use HTTPClient to reach it.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	return &Server{opts: opts, topics: make(map[string]*topic), calls: make(map[string]int)}
}

// NewServer returns a Server listening on 127.0.0.1; Close stops it.
func NewServer(opts Options) *Server {
	s := New(opts)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// Close stops listening and closes open connections.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// HTTPClient returns a client that serves requests in process, without
// sockets; pair it with any endpoint URL, e.g. "http://snstest.invalid".
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: inProcess{s}}
}

// Messages returns a copy of what topicARN accepted, in order.
func (s *Server) Messages(topicARN string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[topicARN]
	if !ok {
		return nil
	}
	return append([]Message(nil), t.messages...)
}

// Count returns how many messages topicARN accepted.
func (s *Server) Count(topicARN string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.topics[topicARN]; ok {
		return t.count
	}
	return 0
}

// Calls returns how many requests of action the double answered (faults and
// errors included).
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// apiError is an SNS error answer.
type apiError struct {
	status  int
	code    string
	message string
	sender  bool
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorStatus(code string) int {
	switch code {
	case "NotFound", "ResourceNotFound":
		return http.StatusNotFound
	case "AuthorizationError", "InvalidSecurity", "KMSAccessDenied":
		return http.StatusForbidden
	case "Throttled":
		return http.StatusTooManyRequests
	case "InternalError", "":
		return http.StatusInternalServerError
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func invalid(code, format string, args ...any) *apiError {
	return &apiError{status: errorStatus(code), code: code, message: fmt.Sprintf(format, args...), sender: true}
}

// errDropped means the answer is a dropped connection.
var errDropped = errors.New("snstest: connection dropped")

// ServeHTTP answers one SNS Query request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := s.serve(r)
	if errors.Is(err, errDropped) {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	writeAnswer(w, body, err)
}

// writeAnswer writes serve's answer: body, or err's error document.
func writeAnswer(w http.ResponseWriter, body []byte, err error) {
	w.Header().Set("Content-Type", "text/xml")
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		w.WriteHeader(ae.status)
		writeError(w, ae)
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
		writeError(w, &apiError{code: "InternalError", message: err.Error()})
	default:
		w.Write(body)
	}
}

func (s *Server) serve(r *http.Request) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, invalid("InvalidAction", "only POST is supported")
	}
	if err := r.ParseForm(); err != nil {
		return nil, invalid("MalformedQueryString", "%v", err)
	}
	form := r.PostForm
	action := form.Get("Action")
	s.mu.Lock()
	s.calls[action]++
	whole := s.wholeFaultLocked(action, form.Get("TopicArn"))
	s.mu.Unlock()
	if whole != nil {
		if err := whole.apply(r.Context()); err != nil {
			return nil, err
		}
	}
	switch action {
	case "CreateTopic":
		return s.createTopic(form)
	case "DeleteTopic":
		s.DeleteTopic(form.Get("TopicArn"))
		return s.respond("DeleteTopic", nil), nil
	case "GetTopicAttributes":
		return s.getTopicAttributes(form)
	case "Publish":
		return s.publish(form)
	case "PublishBatch":
		return s.publishBatch(form)
	}
	return nil, invalid("InvalidAction", "action %q is not supported by snstest", action)
}

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

func (s *Server) respond(action string, result func(*bytes.Buffer)) []byte {
	var b bytes.Buffer
	b.Grow(512)
	b.WriteString(`<` + action + `Response xmlns="` + xmlns + `"><` + action + `Result>`)
	if result != nil {
		result(&b)
	}
	b.WriteString(`</` + action + `Result><ResponseMetadata>`)
	elem(&b, "RequestId", s.newID())
	b.WriteString(`</ResponseMetadata></` + action + `Response>`)
	return b.Bytes()
}

func writeError(w http.ResponseWriter, ae *apiError) {
	var b bytes.Buffer
	typ := "Sender"
	if !ae.sender {
		typ = "Receiver"
	}
	b.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error>`)
	elem(&b, "Type", typ)
	elem(&b, "Code", ae.code)
	elem(&b, "Message", ae.message)
	b.WriteString(`</Error>`)
	elem(&b, "RequestId", "00000000-0000-4000-8000-000000000000")
	b.WriteString(`</ErrorResponse>`)
	w.Write(b.Bytes())
}

func elem(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">")
}

// inProcess serves requests by calling the Server directly.
type inProcess struct{ s *Server }

func (rt inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	body, err := rt.s.serve(req)
	if req.Body != nil {
		req.Body.Close()
	}
	if errors.Is(err, errDropped) {
		if err := req.Context().Err(); err != nil {
			return nil, err
		}
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	writeAnswer(rec, body, err)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
