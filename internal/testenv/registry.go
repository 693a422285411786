package testenv

import (
	"context"
	"testing"
	"time"

	havro "github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"
)

// RegistryClient returns a client of the schema registry at Registry(t) whose idle connections
// are closed in t.Cleanup.
func RegistryClient(t testing.TB) *registry.Client {
	t.Helper()
	client, err := registry.NewClient(Registry(t), registry.WithHTTPClient(HTTPClient(t)))
	if err != nil {
		t.Fatalf("testenv: registry client: %v", err)
	}
	return client
}

// RegisterSchema registers schema with client under a subject unique to this test, which
// t.Cleanup deletes again, and returns the subject, the id the registry gave the schema and the
// schema as the registry parsed it.
func RegisterSchema(t testing.TB, client *registry.Client, schema string) (subject string, id int, parsed havro.Schema) {
	t.Helper()
	subject = Name(t, "", 200) + "-value"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, parsed, err := client.CreateSchema(ctx, subject, schema)
	if err != nil {
		t.Fatalf("testenv: registering a schema under %s: %v", subject, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteSubject(ctx, subject); err != nil {
			t.Errorf("testenv: deleting subject %s: %v", subject, err)
		}
	})
	return subject, id, parsed
}
