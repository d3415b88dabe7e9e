package ledger

import (
	"encoding/binary"
	"fmt"
	"time"
)

// account is one analyst's spending, stored as one fixed-size value: the
// total and only the current day's and month's counters, so old periods
// take no space.
type account struct {
	total      uint64
	day        int64 // dayKey of daySpent
	daySpent   uint64
	month      int64 // monthKey of monthSpent
	monthSpent uint64
}

const accountVersion = 1
const accountSize = 1 + 5*8

func (a account) marshal() []byte {
	b := make([]byte, accountSize)
	b[0] = accountVersion
	binary.BigEndian.PutUint64(b[1:], a.total)
	binary.BigEndian.PutUint64(b[9:], uint64(a.day))
	binary.BigEndian.PutUint64(b[17:], a.daySpent)
	binary.BigEndian.PutUint64(b[25:], uint64(a.month))
	binary.BigEndian.PutUint64(b[33:], a.monthSpent)
	return b
}

func unmarshalAccount(b []byte) (account, error) {
	if len(b) != accountSize || b[0] != accountVersion {
		return account{}, fmt.Errorf("account record: %d bytes, version %d: want %d bytes, version %d", len(b), firstByte(b), accountSize, accountVersion)
	}
	return account{
		total:      binary.BigEndian.Uint64(b[1:]),
		day:        int64(binary.BigEndian.Uint64(b[9:])),
		daySpent:   binary.BigEndian.Uint64(b[17:]),
		month:      int64(binary.BigEndian.Uint64(b[25:])),
		monthSpent: binary.BigEndian.Uint64(b[33:]),
	}, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// at returns the account as seen at now: a day or month counter from an
// earlier period starts again at 0. A counter from a later period (the clock
// stepped back) is kept as it is, so a clock change never resets spending.
func (a account) at(now time.Time) account {
	if d := dayKey(now); d > a.day {
		a.day, a.daySpent = d, 0
	}
	if m := monthKey(now); m > a.month {
		a.month, a.monthSpent = m, 0
	}
	return a
}

// chargeRecord is the stored form of a charge, keyed by query ID. It is kept
// for good: it is the record of what was spent, and it makes a replayed query
// ID fail instead of charging again.
type chargeRecord struct {
	Analyst string    `json:"analyst"`
	Table   string    `json:"table,omitempty"`
	Units   uint64    `json:"units"` // ρ in 10⁻¹² units, rounded up
	At      time.Time `json:"at"`
}
