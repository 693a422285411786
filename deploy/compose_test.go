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

// docker-compose.local.yml (make docker-test) puts every service of docker-compose.yml on the host's
// network, or out of the run with a profile: one left on the default network would make Compose
// create a bridge network, which the test machines must never have.
func TestComposeLocalOverrideUsesTheHostNetworkOnly(t *testing.T) {
	c := loadCompose(t)
	var local struct {
		Services map[string]struct {
			NetworkMode string   `yaml:"network_mode"`
			Profiles    []string `yaml:"profiles"`
			Image       string   `yaml:"image"`
		} `yaml:"services"`
	}
	readFile(t, filepath.Join("..", "docker-compose.local.yml"), &local)
	for name := range c.Services {
		o, ok := local.Services[name]
		switch {
		case !ok:
			t.Errorf("service %s has no entry in docker-compose.local.yml", name)
		case len(o.Profiles) > 0:
		case o.NetworkMode != "host":
			t.Errorf("service %s: docker-compose.local.yml sets network_mode %q, want host", name, o.NetworkMode)
		case !strings.HasPrefix(o.Image, "${LOCAL_"):
			t.Errorf("service %s: docker-compose.local.yml image %q, want a locally built one (${LOCAL_...})", name, o.Image)
		}
	}
	for name := range local.Services {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("docker-compose.local.yml overrides %s, which docker-compose.yml does not have", name)
		}
	}
}
