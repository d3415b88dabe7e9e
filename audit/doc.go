// Package audit owns fedmesh's audit trail: one append-only, hash-chained
// JSON-lines file per process (the coordinator or a site agent), its
// durability, and its verification.
//
// # Guarantee
//
// Nothing leaves a site before its audit record is durable. [Log.Append]
// returns only after the record's line has been written and fsync'd; callers
// export results only when it returns a nil error. Any write or fsync failure
// is returned and puts the Log into a failed state in which every later Append
// fails too ([ErrFailed]): the log fails closed, so a broken disk blocks
// exports instead of letting them through unaudited. The converse is allowed:
// a record may be on disk although its Append reported an error (the fsync
// failed after the write, or the caller's ctx ended first) — an audited event
// that did not happen is harmless, an unaudited export is not.
//
// Concurrent appends share one fsync (group commit): a single writer goroutine
// takes everything queued, writes it with one write, fsyncs once and then
// answers each waiter. A cancelled ctx ends only the caller's wait; a record
// is never half-written because of it.
//
// # Line format
//
// Each line is one [Record]. The record (with prev set) is marshalled with
// encoding/json to bytes B; its hash is hex(sha256(B)); the stored line is B
// with its final '}' replaced by `,"hash":"<hex>"}` and then '\n'. Record
// i+1 carries hash(i) in "prev", so changing any byte of any line — a value,
// whitespace, an added unknown field — breaks either that line's own hash or
// the link to it. [VerifyFile] recomputes everything and reports each problem
// by line and seq: edited, deleted, reordered, malformed or torn.
//
// Open continues an existing file: a torn final line (no newline, or not a
// record) left by a crash is cut off and an [EventRecovery] record saying how
// many bytes were cut is appended. Earlier problems are logged as warnings and
// left for auditors to inspect with VerifyFile. An flock keeps a second
// writer off the same file.
//
// # Limits
//
// The chain alone cannot reveal that the newest records were removed, nor a
// wholesale rewrite of the file with freshly computed hashes; that needs
// signed heads kept elsewhere (see [Log.Head]), which this package does not
// produce yet.
//
// # Must not
//
// Drop a record silently, retry a failed write behind the caller's back,
// decide policy, or rewrite an existing record (Open only ever cuts a torn
// final line, and records that it did).
package audit
