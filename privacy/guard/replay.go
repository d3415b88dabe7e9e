package guard

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SeenTicket records that the query id was presented at now and returns nil,
// after an fsync, the first time; a *ReplayError (errors.Is ErrReplay) every
// later time until the id is forgotten; and ErrTicketExpired, recording
// nothing, when expires is not after now.
//
// The id is kept until expires, but at most ReplayOptions.MaxTTL after now:
// pass the query's deadline (or the credential's expiry if earlier), and
// reject tickets whose deadline lies further than MaxTTL ahead, or a ticket
// could be replayed after it is forgotten. Ids are stored as keyed hashes.
// Each call also forgets up to 100 expired ids; Prune forgets all.
func (s *Store) SeenTicket(ctx context.Context, queryID string, expires, now time.Time) error {
	if err := checkName("replay guard: query id", queryID); err != nil {
		return err
	}
	if !expires.After(now) {
		return fmt.Errorf("replay guard: query id %q: %w at %s", queryID, ErrTicketExpired, expires.UTC().Format(time.RFC3339))
	}
	if limit := now.Add(s.opts.Replay.MaxTTL); expires.After(limit) {
		expires = limit
	}
	id := s.ticketKey(queryID)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if err := s.pruneTickets(tx, now, 100); err != nil {
			return err
		}
		tb := tx.Bucket(bktTickets)
		if tb.Get(id) != nil {
			return &ReplayError{QueryID: queryID}
		}
		exp := timeKey(expires)
		if err := tb.Put(id, exp); err != nil {
			return err
		}
		return tx.Bucket(bktTicketExp).Put(append(exp, id...), nil)
	})
	if errors.Is(err, ErrReplay) {
		return err
	}
	return s.wrap(err, "replay guard", queryID)
}

func (s *Store) ticketKey(queryID string) []byte {
	mac := hmac.New(sha256.New, s.secret[:])
	mac.Write([]byte("fedmesh guard ticket v1\x00"))
	mac.Write([]byte(queryID))
	return mac.Sum(nil)[:16]
}

// pruneTickets forgets up to limit ids (all if limit < 0) whose expiry is
// not after now.
func (s *Store) pruneTickets(tx *bolt.Tx, now time.Time, limit int) error {
	eb, tb := tx.Bucket(bktTicketExp), tx.Bucket(bktTickets)
	var dead [][]byte
	cut := timeKey(now)
	c := eb.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], cut) <= 0 && limit != 0; k, _ = c.Next() {
		dead = append(dead, bytes.Clone(k))
		limit--
	}
	for _, k := range dead {
		if err := eb.Delete(k); err != nil {
			return err
		}
		if err := tb.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}
