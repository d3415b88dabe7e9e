package certs

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Source is where a component gets its identity and the bundles it trusts:
// files (FileSource), the SPIRE Workload API (SPIRESource) or Vault's PKI
// engine (VaultSource). go-spiffe's tlsconfig asks the Source on every
// handshake, so a Source whose SVID or bundles change rotates every new
// connection without a restart; established connections keep the identity
// they were set up with.
type Source interface {
	x509svid.Source
	x509bundle.Source
	// ID is the SPIFFE ID of this component's current SVID.
	ID() spiffeid.ID
}

// Runner is a Source that must be kept fresh while the component runs:
// files polled, SVIDs renewed, Workload API streams closed at the end. Run
// returns when ctx is done (nil) or when the source can no longer work.
type Runner interface {
	Run(ctx context.Context) error
}

// Keep keeps src fresh for a component's lifetime: it runs src when src is
// a Runner and returns what Run returns (nil once ctx is done, an error
// when the source can no longer work). A Source that needs no upkeep has
// nothing to do, and Keep returns nil at once.
func Keep(ctx context.Context, src Source) error {
	r, ok := src.(Runner)
	if !ok {
		return nil
	}
	return r.Run(ctx)
}

// DefaultReloadInterval is how often a FileSource polls its files when
// FileOptions.Interval is zero.
const DefaultReloadInterval = 5 * time.Second

// FileOptions says which PEM files a FileSource reads.
type FileOptions struct {
	Cert, Key string // the X.509-SVID chain and its PKCS#8 key
	Bundle    string // the bundle of the SVID's own trust domain
	// Federated maps other trust domains to their bundle files (SPIFFE
	// federation): peers from those domains are trusted too.
	Federated map[spiffeid.TrustDomain]string
	// Interval is the poll period of Run (default DefaultReloadInterval).
	Interval time.Duration
	// Logger gets reloads and refused reloads; nil discards.
	Logger *slog.Logger
}

// FileSource is a Source read from PEM files. Run polls the files and swaps
// in new material atomically once every file parses, the key matches the
// certificate, and the SVID chains to its own trust domain's bundle; a bad or
// half-written set of files keeps the previous SVID and bundles and logs why.
type FileSource struct {
	opts FileOptions
	log  *slog.Logger
	cur  atomic.Pointer[fileState]
	mu   sync.Mutex // serialises Reload
}

type fileState struct {
	svid    *x509svid.SVID
	bundles *x509bundle.Set
	digest  [sha256.Size]byte
}

var (
	_ Source = (*FileSource)(nil)
	_ Runner = (*FileSource)(nil)
)

// LoadFiles reads an X.509-SVID (certificate chain and PKCS#8 key) and the
// trust bundle of the SVID's trust domain. Errors name the file that was
// missing or malformed. An empty bundle is an error: it would make every
// handshake fail with a confusing reason. The source changes only if Run or
// Reload is called.
func LoadFiles(certPath, keyPath, bundlePath string) (*FileSource, error) {
	return OpenFiles(FileOptions{Cert: certPath, Key: keyPath, Bundle: bundlePath})
}

// OpenFiles reads the files of o once; call Run to keep them fresh.
func OpenFiles(o FileOptions) (*FileSource, error) {
	if o.Interval <= 0 {
		o.Interval = DefaultReloadInterval
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &FileSource{opts: o, log: log.With(logkey.Component, "certs.files", logkey.Cert, o.Cert)}
	st, err := s.read()
	if err != nil {
		return nil, err
	}
	s.cur.Store(st)
	return s, nil
}

// ID is the SPIFFE ID of the current SVID.
func (s *FileSource) ID() spiffeid.ID { return s.cur.Load().svid.ID }

// GetX509SVID implements x509svid.Source.
func (s *FileSource) GetX509SVID() (*x509svid.SVID, error) { return s.cur.Load().svid, nil }

// GetX509BundleForTrustDomain implements x509bundle.Source. It knows its own
// trust domain's bundle and the federated ones; a peer from any other trust
// domain fails verification with an error naming the domains it trusts.
func (s *FileSource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	set := s.cur.Load().bundles
	if b, ok := set.Get(td); ok {
		return b, nil
	}
	return nil, fmt.Errorf("no trust bundle for trust domain %q (this source trusts %s)", td, tdList(set))
}

// Bundles returns the current bundle set (own and federated trust domains).
func (s *FileSource) Bundles() *x509bundle.Set { return s.cur.Load().bundles }

// Run polls the files every Interval and reloads them when their content
// changes, until ctx is done.
func (s *FileSource) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_, _ = s.Reload() // Reload logs
		}
	}
}

// Reload reads the files now. It reports whether new material was swapped
// in; on error the previous SVID and bundles stay in use and the error (also
// logged) says which file was wrong.
func (s *FileSource) Reload() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	raw, digest, err := s.readRaw()
	if err == nil && digest == old.digest {
		return false, nil
	}
	var st *fileState
	if err == nil {
		st, err = s.parse(raw, digest, true)
	}
	if err != nil {
		s.log.Warn("identity files changed but cannot be used; keeping the current SVID",
			logkey.Err, err, logkey.SPIFFEID, old.svid.ID.String(), logkey.Expires, old.svid.Certificates[0].NotAfter)
		return false, err
	}
	s.cur.Store(st)
	leaf := st.svid.Certificates[0]
	lvl := slog.LevelInfo
	if st.svid.ID != old.svid.ID {
		lvl = slog.LevelWarn // an identity change, not just a renewal
	}
	s.log.Log(context.Background(), lvl, "identity files reloaded",
		logkey.SPIFFEID, st.svid.ID.String(), logkey.PreviousSPIFFEID, old.svid.ID.String(),
		logkey.Serial, leaf.SerialNumber.String(), logkey.Expires, leaf.NotAfter, logkey.TrustDomains, tdList(st.bundles))
	return true, nil
}

type rawFiles struct {
	cert, key, bundle []byte
	federated         map[spiffeid.TrustDomain][]byte
}

func (s *FileSource) read() (*fileState, error) {
	raw, digest, err := s.readRaw()
	if err != nil {
		return nil, err
	}
	return s.parse(raw, digest, false)
}

func (s *FileSource) readRaw() (rawFiles, [sha256.Size]byte, error) {
	o := s.opts
	var r rawFiles
	var err error
	h := sha256.New()
	if r.cert, err = os.ReadFile(o.Cert); err != nil {
		return r, [sha256.Size]byte{}, fmt.Errorf("load SVID: cannot read certificate file: %w", err)
	}
	if r.key, err = os.ReadFile(o.Key); err != nil {
		return r, [sha256.Size]byte{}, fmt.Errorf("load SVID: cannot read key file: %w", err)
	}
	if r.bundle, err = os.ReadFile(o.Bundle); err != nil {
		return r, [sha256.Size]byte{}, fmt.Errorf("load trust bundle %s: %w", o.Bundle, err)
	}
	for _, b := range [][]byte{r.cert, r.key, r.bundle} {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	r.federated = map[spiffeid.TrustDomain][]byte{}
	for _, td := range sortedTDs(o.Federated) {
		b, err := os.ReadFile(o.Federated[td])
		if err != nil {
			return r, [sha256.Size]byte{}, fmt.Errorf("load federated bundle for %q %s: %w", td, o.Federated[td], err)
		}
		r.federated[td] = b
		fmt.Fprintf(h, "%s:%d:", td, len(b))
		h.Write(b)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return r, d, nil
}

func (s *FileSource) parse(r rawFiles, digest [sha256.Size]byte, reload bool) (*fileState, error) {
	o := s.opts
	svid, err := x509svid.Parse(r.cert, r.key)
	if err != nil {
		// Name both files: go-spiffe cannot tell which one is wrong when
		// the key does not match the certificate.
		return nil, fmt.Errorf("load SVID (cert %s, key %s): %w", o.Cert, o.Key, err)
	}
	td := svid.ID.TrustDomain()
	own, err := x509bundle.Parse(td, r.bundle)
	if err != nil {
		return nil, fmt.Errorf("load trust bundle %s: %w", o.Bundle, err)
	}
	if own.Empty() {
		return nil, fmt.Errorf("load trust bundle %s: no certificates in file", o.Bundle)
	}
	set := x509bundle.NewSet(own)
	for td, b := range r.federated {
		if td == own.TrustDomain() {
			return nil, fmt.Errorf("federated bundle %s: trust domain %q is this SVID's own; use the bundle setting", o.Federated[td], td)
		}
		fb, err := x509bundle.Parse(td, b)
		if err != nil {
			return nil, fmt.Errorf("load federated bundle for %q %s: %w", td, o.Federated[td], err)
		}
		if fb.Empty() {
			return nil, fmt.Errorf("load federated bundle for %q %s: no certificates in file", td, o.Federated[td])
		}
		set.Add(fb)
	}
	// On a reload, a certificate rotated before its bundle (or a bundle
	// replaced before the certificate) would make peers refuse us; keep the
	// old pair until both files agree. (The first load takes what it finds:
	// there is nothing to keep.) Only signatures are checked here, not validity
	// periods: an expired SVID still loads, so that the refusal happens at
	// the peer, where it is logged and audited.
	if err := chainsTo(svid.Certificates, own); err != nil && reload {
		return nil, fmt.Errorf("SVID %s (cert %s) does not chain to trust bundle %s: %w", svid.ID, o.Cert, o.Bundle, err)
	}
	return &fileState{svid: svid, bundles: set, digest: digest}, nil
}

func sortedTDs(m map[spiffeid.TrustDomain]string) []spiffeid.TrustDomain {
	tds := make([]spiffeid.TrustDomain, 0, len(m))
	for td := range m {
		tds = append(tds, td)
	}
	slices.SortFunc(tds, func(a, b spiffeid.TrustDomain) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	return tds
}

func tdList(set *x509bundle.Set) string {
	var names []string
	for _, b := range set.Bundles() {
		names = append(names, fmt.Sprintf("%q", b.TrustDomain().Name()))
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return fmt.Sprint(names)
}

// chainsTo checks that each certificate of chain is signed by the next and
// the last one by an authority of b.
func chainsTo(chain []*x509.Certificate, b *x509bundle.Bundle) error {
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return fmt.Errorf("certificate %d is not signed by certificate %d: %w", i, i+1, err)
		}
	}
	last := chain[len(chain)-1]
	for _, ca := range b.X509Authorities() {
		if last.CheckSignatureFrom(ca) == nil {
			return nil
		}
	}
	return fmt.Errorf("no authority in the bundle signed %q", last.Issuer)
}
