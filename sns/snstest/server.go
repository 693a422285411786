// Package snstest is an in-process Amazon SNS double for tests and
// benchmarks. It speaks the AWS Query protocol the real SDK client uses
// (form-encoded POST, XML answers) for CreateTopic, DeleteTopic,
// GetTopicAttributes, Publish and PublishBatch, keeps SNS's rules for those
// actions, records what each topic accepted, and injects faults.
//
// Serve it over loopback TCP (NewServer, URL) or without sockets
// (HTTPClient), which also works inside a testing/synctest bubble.
package snstest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/thena-ai/kafka-sns-bridge/sns"
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
}

// Attribute is one message attribute as received.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Message is a message a topic accepted, or (in a Fault's Entry predicate) a
// message about to be judged.
type Message struct {
	TopicARN       string
	MessageID      string
	SequenceNumber string // FIFO topics only
	Body           string
	Subject        string
	Attributes     map[string]Attribute
	GroupID        string
	DedupID        string
	// BatchEntryID is the entry's Id in its PublishBatch call; empty for Publish.
	BatchEntryID string
}

// Fault is an injected failure. Matching requests (by Action and TopicARN,
// empty meaning any) fail as described; Times bounds how many requests (or,
// with Entry, entries) it hits, 0 meaning until removed.
type Fault struct {
	Action   string
	TopicARN string
	// Entry makes the fault per entry: in a PublishBatch, matching entries are
	// listed as Failed with Code, Message and SenderFault while the others go
	// through; a matching Publish fails as a whole.
	Entry func(Message) bool
	// WholeRequest, with Entry, fails a PublishBatch that holds a matching
	// entry as a whole, the way SNS answers some validation errors (e.g. an
	// empty attribute value) with a 400 for the entire request.
	WholeRequest bool
	// Code, Message and Status describe the failure. Status defaults from the
	// code (400 for most, 404 NotFound, 403 AuthorizationError, 429
	// Throttled, 500 InternalError). An empty Code with a Status of 5xx is a
	// bare server error; an empty Code and Status only adds Latency.
	Code        string
	Message     string
	Status      int
	SenderFault bool
	// Latency delays the answer (with or without a failure).
	Latency time.Duration
	// Drop closes the connection without an answer: the client sees a
	// network error, as in an outage.
	Drop  bool
	Times int

	hits atomic.Int64
}

type topic struct {
	arn        string
	attrs      map[string]string
	fifo       bool
	contentDup bool
	maxSize    int
	messages   []Message
	count      int
	dedup      map[string]dedupEntry
	dedupOrder []dedupKey
	seq        uint64
}

type dedupKey struct {
	key string
	at  time.Time
}

type dedupEntry struct {
	messageID string
	seq       string
	at        time.Time
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

// CreateTopic creates (or returns) a topic as the CreateTopic action would.
// attrs are SNS topic attributes; FifoTopic "true" needs a ".fifo" name;
// MaximumMessageSize overrides the sns.DefaultMaxMessageSize limit.
func (s *Server) CreateTopic(name string, attrs map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.createTopicLocked(name, attrs)
	if err != nil {
		return "", err
	}
	return t.arn, nil
}

// DeleteTopic deletes a topic and what it recorded.
func (s *Server) DeleteTopic(arn string) {
	s.mu.Lock()
	delete(s.topics, arn)
	s.mu.Unlock()
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

// Inject adds a fault; call remove to end it. Faults are checked in the
// order they were added.
func (s *Server) Inject(f *Fault) (remove func()) {
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, g := range s.faults {
			if g == f {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// Outage makes every request fail with a dropped connection until the
// returned func is called.
func (s *Server) Outage() (end func()) { return s.Inject(&Fault{Drop: true}) }

// FailEntries fails the entries match selects with code and senderFault
// until the returned func is called.
func (s *Server) FailEntries(match func(Message) bool, code string, senderFault bool) (remove func()) {
	return s.Inject(&Fault{Action: "PublishBatch", Entry: match, Code: code, SenderFault: senderFault,
		Message: "injected failure"})
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
	w.Header().Set("Content-Type", "text/xml")
	var ae *apiError
	if errors.As(err, &ae) {
		w.WriteHeader(ae.status)
		writeError(w, ae)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		writeError(w, &apiError{code: "InternalError", message: err.Error()})
		return
	}
	w.Write(body)
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
		if whole.Latency > 0 {
			if err := sleep(r.Context(), whole.Latency); err != nil {
				return nil, err
			}
		}
		if whole.Drop {
			return nil, errDropped
		}
		if whole.Code != "" || whole.Status != 0 {
			st := whole.Status
			if st == 0 {
				st = errorStatus(whole.Code)
			}
			msg := whole.Message
			if msg == "" {
				msg = "injected fault"
			}
			return nil, &apiError{status: st, code: whole.Code, message: msg, sender: st < 500}
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

// wholeFaultLocked returns the first whole-request fault matching, counting
// its hit. Entry faults are applied per entry elsewhere.
func (s *Server) wholeFaultLocked(action, arn string) *Fault {
	for _, f := range s.faults {
		if f.Entry != nil || !f.matches(action, arn) {
			continue
		}
		if f.Times > 0 && f.hits.Add(1) > int64(f.Times) {
			continue
		}
		return f
	}
	return nil
}

func (f *Fault) matches(action, arn string) bool {
	return (f.Action == "" || f.Action == action) && (f.TopicARN == "" || f.TopicARN == arn)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errDropped
	}
}

func (s *Server) createTopicLocked(name string, attrs map[string]string) (*topic, error) {
	if name == "" || len(name) > 256 {
		return nil, invalid("InvalidParameter", "Invalid parameter: Topic Name")
	}
	fifo := attrs["FifoTopic"] == "true"
	if fifo != sns.IsFIFO(name) {
		return nil, invalid("InvalidParameter", "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.opts.Region, s.opts.AccountID, name)
	if t, ok := s.topics[arn]; ok {
		return t, nil
	}
	t := &topic{arn: arn, attrs: map[string]string{}, fifo: fifo, maxSize: sns.DefaultMaxMessageSize, dedup: map[string]dedupEntry{}}
	for k, v := range attrs {
		t.attrs[k] = v
	}
	t.contentDup = attrs["ContentBasedDeduplication"] == "true"
	if v, ok := attrs["MaximumMessageSize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > 1<<20 {
			return nil, invalid("InvalidParameter", "Invalid parameter: MaximumMessageSize")
		}
		t.maxSize = n
	}
	s.topics[arn] = t
	return t, nil
}

func (s *Server) createTopic(form url.Values) ([]byte, error) {
	attrs := map[string]string{}
	for i := 1; ; i++ {
		k := form.Get("Attributes.entry." + strconv.Itoa(i) + ".key")
		if k == "" {
			break
		}
		attrs[k] = form.Get("Attributes.entry." + strconv.Itoa(i) + ".value")
	}
	arn, err := s.CreateTopic(form.Get("Name"), attrs)
	if err != nil {
		return nil, err
	}
	return s.respond("CreateTopic", func(b *bytes.Buffer) { elem(b, "TopicArn", arn) }), nil
}

func (s *Server) getTopicAttributes(form url.Values) ([]byte, error) {
	arn := form.Get("TopicArn")
	s.mu.Lock()
	t, ok := s.topics[arn]
	var attrs map[string]string
	if ok {
		attrs = map[string]string{
			"TopicArn":                arn,
			"Owner":                   s.opts.AccountID,
			"DisplayName":             "",
			"SubscriptionsConfirmed":  "0",
			"SubscriptionsPending":    "0",
			"SubscriptionsDeleted":    "0",
			"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3}}}`,
		}
		if t.fifo {
			attrs["FifoTopic"] = "true"
			attrs["ContentBasedDeduplication"] = strconv.FormatBool(t.contentDup)
		}
		for k, v := range t.attrs {
			attrs[k] = v
		}
	}
	s.mu.Unlock()
	if !ok {
		return nil, invalid("NotFound", "Topic does not exist")
	}
	return s.respond("GetTopicAttributes", func(b *bytes.Buffer) {
		b.WriteString("<Attributes>")
		for k, v := range attrs {
			b.WriteString("<entry>")
			elem(b, "key", k)
			elem(b, "value", v)
			b.WriteString("</entry>")
		}
		b.WriteString("</Attributes>")
	}), nil
}

// parseMessage reads one message's fields under prefix ("" for Publish,
// "PublishBatchRequestEntries.member.N." for a batch entry).
func parseMessage(form url.Values, prefix string) (Message, error) {
	m := Message{
		Body:    form.Get(prefix + "Message"),
		Subject: form.Get(prefix + "Subject"),
		GroupID: form.Get(prefix + "MessageGroupId"),
		DedupID: form.Get(prefix + "MessageDeduplicationId"),
	}
	for i := 1; ; i++ {
		p := prefix + "MessageAttributes.entry." + strconv.Itoa(i) + "."
		name, ok := form[p+"Name"]
		if !ok {
			break
		}
		if m.Attributes == nil {
			m.Attributes = make(map[string]Attribute)
		}
		a := Attribute{DataType: form.Get(p + "Value.DataType"), StringValue: form.Get(p + "Value.StringValue")}
		if bv := form.Get(p + "Value.BinaryValue"); bv != "" {
			b, err := base64.StdEncoding.DecodeString(bv)
			if err != nil {
				return m, invalid("ParameterValueInvalid", "The message attribute '%s' has an invalid binary value", name[0])
			}
			a.BinaryValue = b
		}
		m.Attributes[name[0]] = a
	}
	return m, nil
}

// size is the message size as SNS counts it (sns.MessageSize). The double
// takes attributes of every type, which sns.Attribute (always a String)
// cannot hold: a binary value counts as its bytes, and a type longer than
// "String" (a custom suffix such as "Number.float") counts its extra bytes.
func (m *Message) size() int {
	n := sns.MessageSize(m.Body, nil)
	for name, a := range m.Attributes {
		asString := [1]sns.Attribute{{Name: name, Value: a.StringValue}}
		n += sns.MessageSize("", asString[:]) + len(a.BinaryValue) + len(a.DataType) - len("String")
	}
	return n
}

// validate applies SNS's per-message rules.
func (t *topic) validate(m *Message) *apiError {
	if m.Body == "" {
		return invalid("InvalidParameter", "Invalid parameter: Empty message")
	}
	for name, a := range m.Attributes {
		switch {
		case name == "" || len(name) > 256 || strings.HasPrefix(strings.ToLower(name), "aws.") ||
			strings.HasPrefix(strings.ToLower(name), "amazon.") || strings.Contains(name, ".."):
			return invalid("ParameterValueInvalid", "The message attribute name '%s' is invalid", name)
		case a.DataType == "":
			return invalid("ParameterValueInvalid", "The message attribute '%s' must contain a non-empty message attribute type.", name)
		case !validDataType(a.DataType):
			return invalid("ParameterValueInvalid", "The type of message attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		case strings.HasPrefix(a.DataType, "Binary") && len(a.BinaryValue) == 0,
			!strings.HasPrefix(a.DataType, "Binary") && a.StringValue == "":
			return invalid("ParameterValueInvalid", "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
		}
	}
	if t.fifo {
		if m.GroupID == "" {
			return invalid("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
		}
		if m.DedupID == "" && !t.contentDup {
			return invalid("InvalidParameter", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
	} else if m.DedupID != "" {
		return invalid("InvalidParameter", "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	if n := m.size(); n > t.maxSize {
		return invalid("InvalidParameter", "Invalid parameter: Message too long")
	}
	return nil
}

func validDataType(dt string) bool {
	for _, p := range []string{"String", "Number", "Binary"} {
		if dt == p || strings.HasPrefix(dt, p+".") {
			return true
		}
	}
	return false
}

// accept records m on t (the caller holds s.mu) and returns its id, keeping
// FIFO de-duplication: a repeat inside the window gets the first id back and
// is not delivered again.
func (s *Server) acceptLocked(t *topic, m *Message) {
	now := time.Now()
	if t.fifo {
		key := m.DedupID
		if key == "" {
			key = contentHash(m.Body)
		}
		if d, ok := t.dedup[key]; ok && now.Sub(d.at) < DedupWindow {
			m.MessageID, m.SequenceNumber = d.messageID, d.seq
			return
		}
		t.seq++
		m.SequenceNumber = fmt.Sprintf("%020d", t.seq)
		m.MessageID = s.newID()
		t.dedup[key] = dedupEntry{m.MessageID, m.SequenceNumber, now}
		t.dedupOrder = append(t.dedupOrder, dedupKey{key, now})
		// Forget ids whose window passed, oldest first: O(1) per message.
		for len(t.dedupOrder) > 0 && now.Sub(t.dedupOrder[0].at) >= DedupWindow {
			k := t.dedupOrder[0]
			if d, ok := t.dedup[k.key]; ok && d.at.Equal(k.at) {
				delete(t.dedup, k.key)
			}
			t.dedupOrder[0] = dedupKey{}
			t.dedupOrder = t.dedupOrder[1:]
		}
	} else {
		m.MessageID = s.newID()
	}
	t.count++
	if s.opts.OnAccept != nil {
		m.TopicARN = t.arn
		s.opts.OnAccept(m)
	}
	if !s.opts.CountOnly {
		m.TopicARN = t.arn
		t.messages = append(t.messages, *m)
	}
}

func anyFault(*Fault) bool        { return true }
func wholeFault(f *Fault) bool    { return f.WholeRequest }
func perEntryFault(f *Fault) bool { return !f.WholeRequest }

func contentHash(body string) string { return "content:" + body }

func (s *Server) newID() string {
	n := s.nextID.Add(1)
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
}

// entryFaultLocked returns the first entry fault that selects m, among the
// faults keep allows.
func (s *Server) entryFaultLocked(action string, m *Message, keep func(*Fault) bool) *Fault {
	for _, f := range s.faults {
		if f.Entry == nil || !keep(f) || !f.matches(action, m.TopicARN) || !f.Entry(*m) {
			continue
		}
		if f.Times > 0 && f.hits.Add(1) > int64(f.Times) {
			continue
		}
		return f
	}
	return nil
}

func (s *Server) publish(form url.Values) ([]byte, error) {
	arn := form.Get("TopicArn")
	if arn == "" {
		arn = form.Get("TargetArn")
	}
	m, err := parseMessage(form, "")
	if err != nil {
		return nil, err
	}
	m.TopicARN = arn
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[arn]
	if !ok {
		return nil, invalid("NotFound", "Topic does not exist")
	}
	if ae := t.validate(&m); ae != nil {
		return nil, ae
	}
	if f := s.entryFaultLocked("Publish", &m, anyFault); f != nil {
		return nil, &apiError{status: errorStatus(f.Code), code: f.Code, message: f.Message, sender: f.SenderFault}
	}
	s.acceptLocked(t, &m)
	return s.respond("Publish", func(b *bytes.Buffer) {
		elem(b, "MessageId", m.MessageID)
		if m.SequenceNumber != "" {
			elem(b, "SequenceNumber", m.SequenceNumber)
		}
	}), nil
}

type batchFailure struct {
	id      string
	code    string
	message string
	sender  bool
}

func (s *Server) publishBatch(form url.Values) ([]byte, error) {
	arn := form.Get("TopicArn")
	var msgs []Message
	for i := 1; ; i++ {
		p := "PublishBatchRequestEntries.member." + strconv.Itoa(i) + "."
		if _, ok := form[p+"Id"]; !ok {
			if _, ok := form[p+"Message"]; !ok {
				break
			}
		}
		m, err := parseMessage(form, p)
		if err != nil {
			return nil, err
		}
		m.BatchEntryID = form.Get(p + "Id")
		m.TopicARN = arn
		msgs = append(msgs, m)
	}
	switch {
	case len(msgs) == 0:
		return nil, invalid("EmptyBatchRequest", "The batch request doesn't contain any entries")
	case len(msgs) > MaxBatchEntries:
		return nil, invalid("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible")
	}
	ids := make(map[string]struct{}, len(msgs))
	total := 0
	for i := range msgs {
		id := msgs[i].BatchEntryID
		if !validBatchEntryID(id) {
			return nil, invalid("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification")
		}
		if _, dup := ids[id]; dup {
			return nil, invalid("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id")
		}
		ids[id] = struct{}{}
		total += msgs[i].size()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[arn]
	if !ok {
		return nil, invalid("NotFound", "Topic does not exist")
	}
	if total > t.maxSize {
		return nil, invalid("BatchRequestTooLong", "The length of all the messages put together is more than the limit")
	}
	for i := range msgs {
		if f := s.entryFaultLocked("PublishBatch", &msgs[i], wholeFault); f != nil {
			msg := f.Message
			if msg == "" {
				msg = "injected failure"
			}
			st := f.Status
			if st == 0 {
				st = errorStatus(f.Code)
			}
			return nil, &apiError{status: st, code: f.Code, message: msg, sender: f.SenderFault}
		}
	}
	var failed []batchFailure
	for i := range msgs {
		m := &msgs[i]
		if ae := t.validate(m); ae != nil {
			failed = append(failed, batchFailure{m.BatchEntryID, ae.code, ae.message, true})
			continue
		}
		if f := s.entryFaultLocked("PublishBatch", m, perEntryFault); f != nil {
			msg := f.Message
			if msg == "" {
				msg = "injected failure"
			}
			failed = append(failed, batchFailure{m.BatchEntryID, f.Code, msg, f.SenderFault})
			m.MessageID = "-"
			continue
		}
		s.acceptLocked(t, m)
	}
	return s.respond("PublishBatch", func(b *bytes.Buffer) {
		b.WriteString("<Successful>")
		for i := range msgs {
			m := &msgs[i]
			if m.MessageID == "" || m.MessageID == "-" {
				continue
			}
			b.WriteString("<member>")
			elem(b, "Id", m.BatchEntryID)
			elem(b, "MessageId", m.MessageID)
			if m.SequenceNumber != "" {
				elem(b, "SequenceNumber", m.SequenceNumber)
			}
			b.WriteString("</member>")
		}
		b.WriteString("</Successful><Failed>")
		for _, f := range failed {
			b.WriteString("<member>")
			elem(b, "Id", f.id)
			elem(b, "Code", f.code)
			elem(b, "Message", f.message)
			elem(b, "SenderFault", strconv.FormatBool(f.sender))
			b.WriteString("</member>")
		}
		b.WriteString("</Failed>")
	}), nil
}

func validBatchEntryID(id string) bool {
	if id == "" || len(id) > MaxBatchEntryIDLength {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
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
	rec.Header().Set("Content-Type", "text/xml")
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		rec.WriteHeader(ae.status)
		writeError(rec, ae)
	case err != nil:
		rec.WriteHeader(http.StatusInternalServerError)
		writeError(rec, &apiError{code: "InternalError", message: err.Error()})
	default:
		rec.Write(body)
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
