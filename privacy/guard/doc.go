// Package guard owns a site agent's durable guard state for exact-mode
// exports, in one bbolt file per site ([Open]):
//
//   - a difference-check window per analyst ([Store.CheckAndRecord]),
//   - a sliding-window query rate limit per analyst ([Store.Allow]),
//   - a replay guard on query ids ([Store.SeenTicket]).
//
// Every method that lets something through writes its state and fsyncs
// before it returns nil, so a crash after an allowed call cannot forget it
// (ARCHITECTURE.md invariant 3: nothing leaves before its record is durable).
// Every method takes the current time from the caller; the package reads no
// clock. It is safe for concurrent use: bbolt runs one write transaction at a
// time, so each check-and-write method is atomic.
//
// # Difference check
//
// Two allowed exact answers over unit sets A and B reveal the units of
// A Δ B by subtraction when that difference is small (the idea behind
// Google Ads Data Hub's difference checks). The caller passes, for each
// exported group, the roaring64 bitmap of unit ids behind it, and a
// table-set key (scope). CheckAndRecord refuses the export when any group
// differs by 1..k-1 units from another group of the same export (ROLLUP and
// GROUPING SETS overlap) or from a set recorded for the same analyst and
// scope within the window (DiffOptions: max age, max exports, max sets;
// oldest evicted first). Identical sets pass: the same answer again reveals
// nothing new. Otherwise it records the groups, so a later export is checked
// against this one in turn; the check is symmetric.
//
// Unit ids are hashed with the site's secret ([UnitHasher]) so the file
// holds no raw ids. Sets are keyed by (scope, cardinality), so only sets
// whose sizes are within k-1 are looked at (||A|-|B|| ≤ |A Δ B|); those then
// pass a 64-partition count bound (see profile.go) before any bitmap
// intersection. Storage is about 10 bytes per recorded unit for 40-bit
// hashed ids, plus 300 bytes per set; size DiffOptions for the disk.
//
// Measured (BenchmarkCheck, 2-core AMD EPYC; 1,000 groups against 1,000
// recorded sets of 1,000–100,000 units, k = 10), one Check:
//
//	ids           independent   same-size   near (every group intersected)
//	dense ints        29 ms        340 ms       126 ms
//	40-bit hashed    3.9 s         5.0 s        2.6 s
//
// Hashed ids are slow because they are sparse: roaring keeps one container
// per 2^16 ids, so a random 40-bit id almost always gets a container of its
// own, and even GetCardinality walks 50,000 scattered heap objects per group.
// Hashing one id into a bitmap costs about 1.2 µs. Dense ids (small integers
// assigned by the site) are two orders of magnitude cheaper; see UnitHasher.
//
// # What the difference check does not stop
//
//   - Differencing across more than the window: a set older than MaxAge or
//     evicted by MaxExports/MaxSets is no longer compared.
//   - Colluding analysts, or one person with several analyst identities:
//     windows are per analyst.
//   - Differencing across sites: each site sees only its own exports.
//   - Differencing across scopes: sets are only compared within one
//     table-set key; the caller must choose scopes so that queries that
//     count the same units share one.
//   - Linear algebra over many sets that pairwise differ by ≥ k units: e.g.
//     (A∪B) - A - B + (A∩B)-style combinations, or solving a system of many
//     overlapping answers (reconstruction attacks). Only pairwise
//     differences are checked.
//   - Averaging: repeated identical answers pass, which is harmless for
//     exact answers but not for noisy ones; this package is for exact mode.
//   - Hash collisions: with b-bit ids a unit collides with one of n others
//     with probability about n/2^b, hiding a 1-unit difference on it.
//   - The refusal itself is data-dependent (it says some difference is
//     small). Its error carries only the scope and k, never units, group
//     values, which group tripped it or by how much.
//
// # Rate limit and replay guard
//
// [Store.Allow] keeps per-analyst counters in buckets of RateOptions.Bucket
// and refuses once RateOptions.Limit queries fall in the window; counters
// survive restarts, and buckets that left the window are deleted.
// [Store.SeenTicket] refuses a query id seen before, remembering each id until
// its expiry (capped at ReplayOptions.MaxTTL). [Store.Prune] sweeps all
// analysts; call it periodically.
//
// # Must not
//
// This package must not decide policy (k, the scope and whether a check
// applies come from the policy decision), see SQL or result values, put unit
// ids, group values or data-dependent detail in errors or logs, or let a
// call through whose state it could not make durable: on any error, do not
// export.
package guard
