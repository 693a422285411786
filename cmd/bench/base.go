package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/thena-ai/kafka-sns-bridge/internal/bridgeproc"
)

// baseRevision is the bridge of another revision, run beside the current one
// ("no regression" needs both in the same run, on the same machine).
type baseRevision struct {
	// label names it in reports: the short commit, or the binary's name.
	label  string
	binary string
	// config is that revision's config.yaml, the template of its
	// configuration: the harness sets only keys it has.
	config bridgeproc.Config
}

// prepareBase builds ./cmd/bridge of o.baseRev from `git archive` into tmp
// (or takes o.baseBin), and reads the matching config.yaml: the revision's
// own, or o.baseConfig.
func prepareBase(ctx context.Context, o options, tmp string, stderr io.Writer) (*baseRevision, error) {
	root, err := bridgeproc.ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	b := &baseRevision{binary: o.baseBin}
	var configText []byte
	if o.baseRev != "" {
		out, err := git(ctx, root, "rev-parse", "--short=12", o.baseRev+"^{commit}")
		if err != nil {
			return nil, fmt.Errorf("-base-rev %s: %w", o.baseRev, err)
		}
		commit := strings.TrimSpace(string(out))
		b.label = commit
		if configText, err = git(ctx, root, "show", commit+":config.yaml"); err != nil {
			return nil, fmt.Errorf("-base-rev %s: reading its config.yaml: %w", o.baseRev, err)
		}
		if b.binary == "" {
			src := filepath.Join(tmp, "base-"+commit)
			archive, err := git(ctx, root, "archive", "--format=tar", commit)
			if err != nil {
				return nil, fmt.Errorf("-base-rev %s: %w", o.baseRev, err)
			}
			if err := untar(archive, src); err != nil {
				return nil, fmt.Errorf("-base-rev %s: unpacking: %w", o.baseRev, err)
			}
			b.binary = filepath.Join(tmp, "bridge-"+commit)
			logf(stderr, "building ./cmd/bridge of %s (base revision)", commit)
			cmd := exec.CommandContext(ctx, "go", "build", "-o", b.binary, "./cmd/bridge")
			cmd.Dir = src
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("building the base revision %s: %w\n%s", commit, err, out)
			}
		}
	} else {
		b.label = filepath.Base(o.baseBin)
	}
	if o.baseConfig != "" {
		if configText, err = os.ReadFile(o.baseConfig); err != nil {
			return nil, err
		}
	}
	if configText == nil {
		return nil, errors.New("-base-bin needs -base-config (or -base-rev): the harness configures the base bridge from its own config.yaml")
	}
	if b.config, err = parseConfig(configText); err != nil {
		return nil, fmt.Errorf("base revision's config.yaml: %w", err)
	}
	return b, nil
}

// readCurrentConfig reads the repository's config.yaml, the template of
// the current bridge's configuration.
func readCurrentConfig(ctx context.Context) (bridgeproc.Config, error) {
	root, err := bridgeproc.ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "config.yaml"))
	if err != nil {
		return nil, err
	}
	return parseConfig(b)
}

func parseConfig(b []byte) (bridgeproc.Config, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return bridgeproc.Config(m), nil
}

// cloneConfig is a deep copy of c.
func cloneConfig(c bridgeproc.Config) (bridgeproc.Config, error) {
	b, err := yaml.Marshal(map[string]any(c))
	if err != nil {
		return nil, err
	}
	return parseConfig(b)
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// untar writes the regular files and directories of a tar archive under dir.
func untar(archive []byte, dir string) error {
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("%q leaves the directory", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(hdr.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
}
