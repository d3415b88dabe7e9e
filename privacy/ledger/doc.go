// Package ledger owns a site's durable privacy-budget ledger: how much ρ
// (zero-concentrated DP, see package privacy/dp) each analyst has spent, per
// calendar UTC day, calendar UTC month and in total, and which query IDs were
// charged. It is one bbolt file, opened by one site agent.
//
// # Guarantees
//
// [Ledger.Debit] checks every limit and records the charge in one write
// transaction, which bbolt commits with fsync (NoSync stays false) before
// Debit returns: once it returns nil, the charge survives a crash or SIGKILL.
// Write transactions are serialised, so concurrent Debits (several
// coordinators' queries at once) can never together exceed a limit. Amounts
// are integer units of 10⁻¹² ρ, charges rounded up and limits down, so
// rounding never lets spending exceed a limit. A query ID is charged at most
// once ([ErrDuplicateCharge]), so a replayed query cannot spend twice nor be
// used to probe whether a budget is nearly gone.
//
// A day or month counter from a period that has ended starts again at 0; a
// clock that steps back never resets one (the later period's counter keeps
// counting). Per analyst only the current day's and month's counters and the
// total are stored; each charge's record (analyst, table, ρ, time) is kept,
// about 100 bytes per query.
//
// # Must not
//
// Never refund or reduce a debit: there is deliberately no API for it. Noise
// that may have been seen has spent its budget even if the query later
// failed. Never decide whether limits are required: which tables need which
// limits is policy, validated by the caller; here a zero limit means none.
package ledger
