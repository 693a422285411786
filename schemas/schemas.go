// Package schemas embeds the Avro schemas (*.avsc, namespace com.thena.events)
// of the Thena platform events the bridge carries, so that the bridge's local
// schema source, the event generator and the demo need no files on disk.
// README.md in this directory documents the conventions and which payload
// record each event type uses.
package schemas

import (
	"embed"
	"io/fs"
)

//go:embed *.avsc
var files embed.FS

// FS returns the embedded schema files, one record schema per event family at
// the root of the file system. It is read-only and safe for concurrent use.
func FS() fs.FS { return files }
