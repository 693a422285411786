package deploy

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// readFile decodes the JSON (.json) or YAML file at path into dst, failing
// the test with the file's name when it is missing or malformed.
func readFile(t *testing.T, path string, dst any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	format := "YAML"
	if strings.HasSuffix(path, ".json") {
		format, err = "JSON", json.Unmarshal(raw, dst)
	} else {
		err = yaml.Unmarshal(raw, dst)
	}
	if err != nil {
		t.Fatalf("%s is not valid %s: %v", path, format, err)
	}
}
