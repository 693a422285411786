package bridgeproc

import (
	"net"
	"os"
	"strings"
)

// Region is the AWS region of every bridge this package runs, and of the
// AWS resources the tests make for it.
const Region = "us-east-1"

// AWSEnv is the AWS part of the environment of a bridge under test or
// benchmark: static dummy credentials, Region, and no shared config or
// credentials file or instance metadata read, so that a developer's real
// AWS profile can never be used. Each entry is KEY=VALUE.
func AWSEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_REGION=" + Region,
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Env is the environment of a bridge child process: environ without BRIDGE_*
// (which would override its configuration file) and AWS_* variables, plus
// AWSEnv, plus extra.
func Env(environ []string, extra ...string) []string {
	var env []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "BRIDGE_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, AWSEnv()...), extra...)
}

// FreeAddr is a loopback host:port that nothing listened on a moment ago,
// for a bridge's http.listen that its starter must know in advance.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
