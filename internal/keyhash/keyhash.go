// Package keyhash is how an ordering key (an organization id) appears in
// logs and in the /debug/keys view beside the key: the first 8 bytes of its
// SHA-256, in hex. Logs must not carry organization ids raw; the hash still
// tells one key's lines apart, and it is the same in every package's lines.
package keyhash

import (
	"crypto/sha256"
	"encoding/hex"
)

// Of returns the hash of key as logs name it (16 hex digits).
func Of(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}
