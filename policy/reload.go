package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Source is where a site's bundle comes from. Poll returns a newly loaded
// Policy when the bundle changed since the last Poll, nil and no error when
// it did not, and an error when a changed bundle could not be fetched or was
// refused (a refused bundle is not retried until it changes again).
type Source interface {
	Poll(ctx context.Context) (*Policy, error)
	String() string
}

// PathSource watches a bundle directory or .tar.gz by hashing its files on
// every poll: cheap for bundle-sized trees, and immune to mtime granularity.
type PathSource struct {
	Path    string
	Options LoadOptions
	Logger  *slog.Logger
	last    string // digest of the last content polled
}

var _ Source = (*PathSource)(nil)

func (s *PathSource) String() string { return s.Path }

// Poll implements Source.
func (s *PathSource) Poll(ctx context.Context) (*Policy, error) {
	sum, err := treeDigest(s.Path)
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: %w", s.Path, err)
	}
	if sum == s.last {
		return nil, nil
	}
	s.last = sum
	return LoadPath(ctx, s.Path, s.Options, s.Logger)
}

// treeDigest hashes the names and contents of every regular file under
// path (or of path itself).
func treeDigest(path string) (string, error) {
	h := sha256.New()
	var names []string
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", n)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HTTPSource polls an OPA bundle server (any HTTP server serving a bundle
// .tar.gz) the way OPA's bundle plugin does: GET with If-None-Match set to
// the last ETag, so an unchanged bundle costs a 304.
type HTTPSource struct {
	URL     string
	Client  *http.Client // nil: a client with a 30s timeout
	Options LoadOptions
	Logger  *slog.Logger
	etag    string
}

var _ Source = (*HTTPSource)(nil)

func (s *HTTPSource) String() string { return s.URL }

// maxBundleDownload bounds a downloaded bundle tarball.
const maxBundleDownload = 64 << 20

// Poll implements Source.
func (s *HTTPSource) Poll(ctx context.Context) (*Policy, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: %w", s.URL, err)
	}
	if s.etag != "" {
		req.Header.Set("If-None-Match", s.etag)
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: download: %w", s.URL, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil, nil
	case http.StatusOK:
	default:
		return nil, fmt.Errorf("policy bundle %q: download: server answered %s", s.URL, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBundleDownload+1))
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: download: %w", s.URL, err)
	}
	if len(raw) > maxBundleDownload {
		return nil, fmt.Errorf("policy bundle %q: larger than %d bytes", s.URL, maxBundleDownload)
	}
	// Remember the ETag even if the bundle is refused: it is not retried
	// (nor logged again) until the server has a new one.
	s.etag = resp.Header.Get("ETag")
	return LoadTarball(ctx, s.URL, raw, s.Options, s.Logger)
}

// Watch polls src every interval until ctx ends, storing each newly loaded
// bundle in h. A bundle that fails to load, verify or self-check is refused
// with an error log line naming it and why; h keeps its last good bundle (or,
// with none, keeps denying everything). Watch returns nil when ctx ends.
func Watch(ctx context.Context, h *Holder, src Source, interval time.Duration, logger *slog.Logger) error {
	if interval <= 0 {
		return fmt.Errorf("policy watch %q: interval must be positive", src)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(logkey.Component, "policy", logkey.Bundle, src.String())
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		Reload(ctx, h, src, logger)
	}
}

// Reload polls src once and stores a new bundle in h if there is one. It
// reports whether h changed.
func Reload(ctx context.Context, h *Holder, src Source, logger *slog.Logger) bool {
	p, err := src.Poll(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return false
	case err != nil:
		keep := "keeping the last good bundle (revision " + h.Revision() + ")"
		if h.Current() == nil {
			keep = "no bundle is loaded, so every export is refused"
		}
		msg := "policy bundle refused; " + keep
		if errors.Is(err, ErrVerification) {
			msg = "policy bundle refused: signature verification failed; " + keep
		}
		logger.Error(msg, logkey.Err, err)
		return false
	case p == nil:
		return false
	}
	old := h.Store(p)
	from := ""
	if old != nil {
		from = old.Revision()
	}
	logger.Info("policy bundle activated", logkey.PreviousRevision, from, logkey.BundleRevision, p.Revision())
	return true
}
