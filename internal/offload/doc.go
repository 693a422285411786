// Package offload stores the events mapping offloads (a claim check) in
// Amazon S3, for the routes with large_events offload or
// truncate_then_offload.
//
//	consumer -> translate: avro -> mapping (pointer message + OffloadedEvent) -> offload.Store.Put -> sns
//
// translate puts the object before it hands the pointer message to the
// delivery engine, so a subscriber never receives a pointer to an object
// that is not there yet. The key comes from the event id
// (mapping.OffloadKey): a retried or replayed event overwrites its object.
//
// Classify is the package's one classifier of S3 errors, in the classes of
// internal/failure and as the sns package treats SNS: throttling
// (SlowDown, 503), 5xx, timeouts and network errors are transient; a
// missing bucket, access denied, bad credentials and KMS refusals are
// systemic (retried slowly, never dead-lettered, and checked at start-up by
// CheckBucket); the rest of S3's 4xx answers are systemic too, because they
// mean the configuration (bucket, region, encryption) is wrong for every
// event alike. No S3 error is permanent: an offloaded event is never
// dead-lettered for S3's sake. The client makes one attempt per call; the
// delivery engine's backoff for translation is the only retry layer.
package offload
