package certs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// SPIREOptions says how to reach the SPIRE agent's Workload API.
type SPIREOptions struct {
	// Socket is the Workload API address: "unix:///run/spire/agent.sock".
	Socket string
	// ID, if set, picks the SVID with this SPIFFE ID when the Workload API
	// offers several; a zero ID takes the first.
	ID     spiffeid.ID
	Logger *slog.Logger
}

// SPIRESource is a Source fed by the SPIRE Workload API: the agent pushes
// renewed SVIDs and bundles (including federated trust domains' bundles)
// on its own schedule, and every new handshake uses the latest.
type SPIRESource struct {
	x    *workloadapi.X509Source
	want spiffeid.ID
	log  *slog.Logger
}

var (
	_ Source = (*SPIRESource)(nil)
	_ Runner = (*SPIRESource)(nil)
)

// OpenSPIRE connects to the Workload API and waits for the first SVID (and,
// with o.ID set, for that SVID) until ctx is done.
func OpenSPIRE(ctx context.Context, o SPIREOptions) (*SPIRESource, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []workloadapi.X509SourceOption{workloadapi.WithClientOptions(workloadapi.WithAddr(o.Socket))}
	if !o.ID.IsZero() {
		want := o.ID
		opts = append(opts, workloadapi.WithDefaultX509SVIDPicker(func(svids []*x509svid.SVID) *x509svid.SVID {
			for _, s := range svids {
				if s.ID == want {
					return s
				}
			}
			return nil
		}))
	}
	x, err := workloadapi.NewX509Source(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("spire workload API at %s: %w", o.Socket, err)
	}
	s := &SPIRESource{x: x, want: o.ID, log: log.With(logkey.Component, "certs.spire", logkey.Socket, o.Socket)}
	svid, err := s.x.GetX509SVID()
	for err != nil {
		// The picker found no SVID with the wanted ID in this update; wait
		// for the next (the entry may not have propagated yet).
		if werr := x.WaitUntilUpdated(ctx); werr != nil {
			_ = x.Close()
			return nil, fmt.Errorf("spire workload API at %s: no SVID with ID %s: %w", o.Socket, o.ID, err)
		}
		svid, err = s.x.GetX509SVID()
	}
	s.log.Info("SVID from the Workload API", logkey.SPIFFEID, svid.ID.String(), logkey.Expires, svid.Certificates[0].NotAfter)
	return s, nil
}

// ID is the SPIFFE ID of the current SVID (the wanted ID if one was set).
func (s *SPIRESource) ID() spiffeid.ID {
	if !s.want.IsZero() {
		return s.want
	}
	svid, err := s.x.GetX509SVID()
	if err != nil {
		return spiffeid.ID{}
	}
	return svid.ID
}

// GetX509SVID implements x509svid.Source.
func (s *SPIRESource) GetX509SVID() (*x509svid.SVID, error) { return s.x.GetX509SVID() }

// GetX509BundleForTrustDomain implements x509bundle.Source.
func (s *SPIRESource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	return s.x.GetX509BundleForTrustDomain(td)
}

// Run logs each update from the Workload API until ctx is done, then
// closes the stream.
func (s *SPIRESource) Run(ctx context.Context) error {
	defer s.Close()
	for {
		if err := s.x.WaitUntilUpdated(ctx); err != nil {
			return nil
		}
		if svid, err := s.x.GetX509SVID(); err == nil {
			s.log.Info("SVID rotated by SPIRE", logkey.SPIFFEID, svid.ID.String(),
				logkey.Serial, svid.Certificates[0].SerialNumber.String(), logkey.Expires, svid.Certificates[0].NotAfter)
		} else {
			s.log.Warn("Workload API update without a usable SVID; handshakes will fail until the next", logkey.Err, err)
		}
	}
}

// Close ends the Workload API stream.
func (s *SPIRESource) Close() error { return s.x.Close() }
