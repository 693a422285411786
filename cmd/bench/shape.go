package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/thena-ai/kafka-sns-bridge/internal/eventgen"
)

// Backlog framings: local schema ids (the bridge with schemas.local_dir) or
// the ids a schema registry gave the same schemas (what Bento's
// schema_registry_decode and any revision of the bridge can read).
const (
	framingLocal    = "local"
	framingRegistry = "registry"
)

// shape is everything that makes one backlog differ from another: the
// generator's seed and options, the number of events and partitions, the
// schema id framing. It names the backlog topic, so that a run never
// reuses a backlog made for another shape.
type shape struct {
	Seed       int64   `json:"seed"`
	Events     int64   `json:"events"`
	Orgs       int     `json:"orgs"`
	Zipf       float64 `json:"zipf,omitempty"` // 0: uniform
	Partitions int     `json:"partitions"`
	Framing    string  `json:"framing,omitempty"` // "" is local
}

func (s shape) genOptions() eventgen.Options { return eventgen.Options{Orgs: s.Orgs, Zipf: s.Zipf} }

// topShare is the busiest organization's expected share of the events.
func (s shape) topShare() float64 { return s.genOptions().TopOrgShare() }

// distribution describes the organizations' distribution in words.
func (s shape) distribution() string {
	if s.Zipf > 0 {
		return fmt.Sprintf("Zipf(%g) over %d organizations, the busiest %.1f %%", s.Zipf, s.Orgs, 100*s.topShare())
	}
	if s.Orgs == 1 {
		return "1 organization"
	}
	return fmt.Sprintf("%d organizations, uniform", s.Orgs)
}

// orgsKey names the organizations' distribution: o<orgs>[.z<exponent>].
func (s shape) orgsKey() string {
	k := "o" + strconv.Itoa(s.Orgs)
	if s.Zipf > 0 {
		k += ".z" + strconv.FormatFloat(s.Zipf, 'f', -1, 64)
	}
	return k
}

// key identifies the shape among others in a report: the same events, in
// the same partitions, whatever their schema ids' framing.
func (s shape) key() string {
	return fmt.Sprintf("s%d.n%d.%s.p%d", s.Seed, s.Events, s.orgsKey(), s.Partitions)
}

// topic is the backlog topic's name: prefix, then every field of the shape,
// then fingerprint (a hash of the first generated records, so a change to
// the generator, the schemas or the registry's ids makes a new backlog).
func (s shape) topic(prefix, fingerprint string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.s%d.n%d.%s.p%d", prefix, s.Seed, s.Events, s.orgsKey(), s.Partitions)
	if s.Framing == framingRegistry {
		b.WriteString(".reg")
	}
	if fingerprint != "" {
		b.WriteString(".g" + fingerprint)
	}
	return b.String()
}

// fingerprintSample is how many generated records the fingerprint hashes.
const fingerprintSample = 200

// fingerprint hashes the first records of s as they would be produced
// (reframe rewrites schema ids; nil keeps the local ones).
func fingerprint(s shape, reframe func([]byte) ([]byte, error)) (string, error) {
	gen, err := eventgen.New(s.Seed, s.genOptions())
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, r := range gen.Mixed(fingerprintSample) {
		v := r.Value
		if reframe != nil {
			if v, err = reframe(v); err != nil {
				return "", err
			}
		}
		h.Write(r.Key)
		h.Write([]byte{0})
		h.Write(v)
	}
	return hex.EncodeToString(h.Sum(nil))[:8], nil
}
