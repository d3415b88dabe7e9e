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
// # Signed heads
//
// With a [Signer] (ed25519, [GenerateKey]) the log writes an
// [EventSignedHead] record every Options.SignEvery records, every
// SignInterval, before a rotation and on Close: a [SignedHead] saying "record
// seq N has hash H". [Log.Sign] hands out the same statement for any
// record; a site sends one with every export and the coordinator keeps it.
// [VerifyFiles] holds a log to its own heads and to heads others keep
// ([VerifyOptions].Heads); [VerifyFederation] does that for a whole
// federation. Together they catch what the chain alone cannot: the newest
// records cut off (a head names a seq past the end: truncated) and a file
// rewritten with fresh hashes (a head's hash no longer matches: head).
// VerifyFederation also reports each site export whose query id no given
// coordinator log records (orphan): a site answered someone other than the
// coordinators whose logs were given.
// A head kept only in the log itself goes with the log; the heads the
// coordinator keeps are the ones a site cannot take back.
//
// # Rotation
//
// Options.RotateSize and RotateAge move the active file to path.000001,
// path.000002, … ([Segments]); the chain continues into the new file, and a
// signed head closes each segment, so a dropped or swapped segment shows.
//
// # Limits
//
// Records after the newest head anyone kept can be cut without a trace;
// heads are only as trustworthy as the keys' custody (a per-component key
// from config; no Vault transit signing yet). Reading for verification
// streams each file but keeps a small index of every line in memory.
//
// The record and export formats are documented in SCHEMA.md.
//
// # Must not
//
// Drop a record silently, retry a failed write behind the caller's back,
// decide policy, or rewrite an existing record (Open only ever cuts a torn
// final line, and records that it did).
package audit
