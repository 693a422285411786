package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// composeFile is the part of docker-compose.yml these tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   any               `yaml:"depends_on"`
	} `yaml:"services"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	readFile(t, filepath.Join("..", "docker-compose.yml"), &c)
	return c
}

func TestComposeHasTheWholeStack(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"kafka", "sns", "schema-registry", "bridge", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %q is missing", name)
		}
	}
	if c.Services["bridge"].Build == nil {
		t.Error("the bridge service must be built from the repository's Dockerfile")
	}
	if _, err := os.Stat(filepath.Join("..", "Dockerfile")); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
}

// Images pinned by tag: a moving "latest" makes the stack change under people.
func TestComposeImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	tagged := regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+$`)
	for name, s := range c.Services {
		if s.Image == "" {
			continue
		}
		if !tagged.MatchString(s.Image) || strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("service %s: image %q is not pinned to a version tag", name, s.Image)
		}
	}
}

// Host ports bind loopback only and do not collide.
func TestComposePorts(t *testing.T) {
	c := loadCompose(t)
	want := map[string]string{
		"kafka":           "127.0.0.1:9092:9092",
		"sns":             "127.0.0.1:4566:4566",
		"schema-registry": "127.0.0.1:8081:8081",
		"bridge":          "127.0.0.1:9090:9090",
	}
	for svc, port := range want {
		if !slices.Contains(c.Services[svc].Ports, port) {
			t.Errorf("service %s: want port %s, have %v", svc, port, c.Services[svc].Ports)
		}
	}
	seen := map[string]string{}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			if len(parts) != 3 || parts[0] != "127.0.0.1" {
				t.Errorf("service %s: port %q must bind 127.0.0.1 explicitly", name, p)
				continue
			}
			if other, dup := seen[parts[1]]; dup {
				t.Errorf("host port %s used by %s and %s", parts[1], other, name)
			}
			seen[parts[1]] = name
		}
	}
}

// Every file a service mounts exists in the repository.
func TestComposeMountsExist(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, "./") {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", src)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
		}
	}
}
