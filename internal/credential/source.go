package credential

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
)

// keySource yields the issuer's current keys.
type keySource interface {
	// lookup returns the key named kid. ok is false when no key has that
	// id; err (an *Error marked Unavailable) when no keys could be loaded.
	lookup(ctx context.Context, kid string) (k verificationKey, ok bool, err error)
}

// fileSource reads a JWKS file and re-reads it whenever it changes on disk
// (another inode, size or modification time), so keys rotate without a
// restart. A changed file that cannot be used is logged and the last good
// keys stay in force.
type fileSource struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	info os.FileInfo // of the file last read, good or bad
	keys keySet
}

func newFileSource(path string, log *slog.Logger) (*fileSource, error) {
	s := &fileSource{path: path, log: log}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("jwks file: %w", err)
	}
	keys, err := s.read(info)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	return s, nil
}

func (s *fileSource) read(info os.FileInfo) (keySet, error) {
	s.info = info
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("jwks file: %w", err)
	}
	keys, skipped, err := parseKeySet(b)
	if err != nil {
		return nil, fmt.Errorf("jwks file %s: %w", s.path, err)
	}
	for _, why := range skipped {
		s.log.Warn("analyst credential key not used", "jwks_file", s.path, "reason", why)
	}
	return keys, nil
}

func (s *fileSource) lookup(_ context.Context, kid string) (verificationKey, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := os.Stat(s.path)
	switch {
	case err != nil:
		// Log a vanished or unreadable file once; keep the keys.
		if s.info != nil {
			s.log.Error("analyst credential keys: jwks file unreadable; keeping the last good keys", "jwks_file", s.path, "err", err)
			s.info = nil
		}
	case s.info == nil || !os.SameFile(info, s.info) || info.Size() != s.info.Size() || !info.ModTime().Equal(s.info.ModTime()):
		keys, err := s.read(info)
		if err != nil {
			s.log.Error("analyst credential keys: changed jwks file unusable; keeping the last good keys", "err", err)
			break
		}
		s.keys = keys
		s.log.Info("analyst credential keys reloaded", "jwks_file", s.path, "keys", len(keys))
	}
	k, ok := s.keys[kid]
	return k, ok, nil
}

// urlSource fetches a JWKS over HTTP(S). The keys are cached for maxAge;
// a token naming an unknown kid triggers a refetch, at most once every
// minRefetch, so rotation at the issuer is picked up without a restart and
// a stream of made-up kids cannot turn into a stream of fetches. A failed
// fetch keeps the last good keys.
type urlSource struct {
	url        string
	client     *http.Client
	minRefetch time.Duration
	maxAge     time.Duration
	now        func() time.Time
	log        *slog.Logger

	mu          sync.Mutex // held while fetching, so concurrent misses fetch once
	keys        keySet
	fetched     time.Time // last successful fetch
	lastAttempt time.Time
}

// maxJWKSBytes bounds a fetched key set.
const maxJWKSBytes = 1 << 20

func (s *urlSource) lookup(ctx context.Context, kid string) (verificationKey, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	stale := s.keys == nil || now.Sub(s.fetched) >= s.maxAge
	_, known := s.keys[kid]
	mayFetch := s.lastAttempt.IsZero() || now.Sub(s.lastAttempt) >= s.minRefetch
	if (stale || !known) && mayFetch {
		s.lastAttempt = now
		keys, err := s.fetch(ctx)
		switch {
		case err != nil && s.keys == nil:
			return verificationKey{}, false, &Error{Unavailable: true, Err: err,
				Reason: fmt.Sprintf("cannot fetch the issuer's keys: %v", err)}
		case err != nil:
			s.log.Error("analyst credential keys: refetch failed; keeping the last good keys", "jwks_url", s.url, "err", err)
		default:
			s.keys, s.fetched = keys, now
		}
	}
	if s.keys == nil {
		return verificationKey{}, false, &Error{Unavailable: true, Err: errNoKeys,
			Reason: fmt.Sprintf("the issuer's keys at %s could not be fetched yet; retry in %s", s.url, s.minRefetch)}
	}
	k, ok := s.keys[kid]
	return k, ok, nil
}

func (s *urlSource) fetch(ctx context.Context) (keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", s.url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.url, err)
	}
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("GET %s: key set larger than %d bytes", s.url, maxJWKSBytes)
	}
	keys, skipped, err := parseKeySet(b)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.url, err)
	}
	for _, why := range skipped {
		s.log.Warn("analyst credential key not used", "jwks_url", s.url, "reason", why)
	}
	s.log.Info("analyst credential keys fetched", "jwks_url", s.url, "keys", len(keys))
	return keys, nil
}
