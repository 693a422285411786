package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// envPrefix starts every environment override: BRIDGE_KAFKA_BROKERS sets
// kafka.brokers, BRIDGE_SNS_ENDPOINT sets sns.endpoint, and so on.
const envPrefix = "BRIDGE_"

// varRef matches ${NAME} and ${NAME:-default} in the configuration file.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandVars replaces ${NAME} and ${NAME:-default} with values from getenv.
// A reference to an unset variable without a default is an error that names
// the variable and the line, so a missing AWS_SNS_TICKET_TOPIC_ARN fails at
// start-up instead of routing to an empty ARN.
func expandVars(raw []byte, getenv func(string) string) ([]byte, error) {
	var errs []error
	lines := bytes.Split(raw, []byte("\n"))
	for i, line := range lines {
		trimmed := bytes.TrimSpace(line)
		if bytes.HasPrefix(trimmed, []byte("#")) {
			continue // comments may mention ${VAR} freely
		}
		lines[i] = varRef.ReplaceAllFunc(line, func(m []byte) []byte {
			sub := varRef.FindSubmatch(m)
			name := string(sub[1])
			if v := getenv(name); v != "" {
				return []byte(v)
			}
			if len(sub[2]) > 0 {
				return sub[3]
			}
			errs = append(errs, fmt.Errorf("line %d: environment variable %s is not set (use ${%s:-default} for an optional value)", i+1, name, name))
			return m
		})
	}
	return bytes.Join(lines, []byte("\n")), errors.Join(errs...)
}

// decodeConfig reads YAML into dst strictly: an unknown key is an error that
// names it, since a typo would otherwise silently leave a default in force.
func decodeConfig(raw []byte, dst any) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file means all defaults
		}
		return err
	}
	return nil
}

// applyEnvOverrides sets fields of the struct dst points to from environment
// variables named after their YAML path: BRIDGE_ + the path's keys joined by
// "_" in upper case. Lists are comma-separated; durations use Go syntax (5s).
// It returns the names of the variables it applied.
func applyEnvOverrides(dst any, environ []string) ([]string, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, envPrefix) {
			env[k] = v
		}
	}
	var applied []string
	var errs []error
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			name := path + "_" + strings.ToUpper(tag)
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Duration(0)) {
				walk(fv, name)
				continue
			}
			raw, ok := env[name]
			if !ok {
				continue
			}
			if err := setFromString(fv, raw); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			applied = append(applied, name)
		}
	}
	walk(reflect.ValueOf(dst).Elem(), strings.TrimSuffix(envPrefix, "_"))
	return applied, errors.Join(errs...)
}

func setFromString(v reflect.Value, raw string) error {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("not a duration (like 5s or 250ms): %q", raw)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not a whole number: %q", raw)
		}
		v.SetInt(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot be set from the environment")
		}
		var parts []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// readConfigFile loads path (YAML), expands ${VAR} references and applies
// BRIDGE_* environment overrides on top of the defaults already in dst.
func readConfigFile(path string, getenv func(string) string, environ []string, dst any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	expanded, err := expandVars(raw, getenv)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := decodeConfig(expanded, dst); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if _, err := applyEnvOverrides(dst, environ); err != nil {
		return fmt.Errorf("environment overrides: %w", err)
	}
	return nil
}

// decodeYAML reads YAML leniently (unknown keys ignored), for files that are
// not the bridge's configuration.
func decodeYAML(raw []byte, dst any) error {
	return yaml.Unmarshal(raw, dst)
}
