package flight

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"github.com/fedmesh/fedmesh/internal/logkey"
	"github.com/fedmesh/fedmesh/planner"
)

// MaxResultMessageSize bounds one Flight data message (one record batch) a
// client accepts from a site.
const MaxResultMessageSize = 64 << 20

// Target is one site the coordinator talks to. TLS must present the
// coordinator's SVID and verify the site's (go-spiffe's
// tlsconfig.MTLSClientConfig with an authorizer for that site's ID).
type Target struct {
	Site string
	Addr string
	TLS  *tls.Config
}

// Client is the coordinator's Flight client: one lazily connected gRPC
// connection per site, reused across queries. It is safe for concurrent use.
type Client struct {
	// Observe, if set before the first FanOut, is told each site's
	// outcome in a fan-out (codes.OK, or the code of its SiteError) and how
	// long the site took, for metrics. It must be safe for concurrent use.
	Observe func(site string, code codes.Code, elapsed time.Duration)

	sites  map[string]*siteConn
	logger *slog.Logger
}

type siteConn struct {
	conn   *grpc.ClientConn
	flight flight.Client
	target Target // for the short-lived connections of catalog fetches
}

// SiteResult is one site's partial result. The caller owns Batches and must
// Release them. Schema is the site's schema without the fedmesh metadata
// keys, which are parsed into Meta (the batches' own schemas still carry
// them).
type SiteResult struct {
	Site    string
	Schema  *arrow.Schema
	Batches []arrow.RecordBatch
	Meta    ResultMeta
	Elapsed time.Duration
}

// Release releases the result's batches.
func (r *SiteResult) Release() {
	for _, b := range r.Batches {
		b.Release()
	}
	r.Batches = nil
}

// NewClient builds a connection per target without dialling; connections are
// made on first use. It fails on an empty or repeated site name, an empty
// address, or a TLS config that is missing or does not verify the server.
func NewClient(targets []Target, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{sites: make(map[string]*siteConn, len(targets)), logger: logger.With(logkey.Component, "flight.client")}
	for i, t := range targets {
		if err := checkTarget(t); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("flight client: targets[%d] (site %q): %w", i, t.Site, err)
		}
		if _, dup := c.sites[t.Site]; dup {
			_ = c.Close()
			return nil, fmt.Errorf("flight client: targets[%d]: site %q is listed twice", i, t.Site)
		}
		conn, err := dial(t)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("flight client: site %q at %s: %w", t.Site, t.Addr, err)
		}
		c.sites[t.Site] = &siteConn{conn: conn, flight: flight.NewClientFromConn(conn, nil), target: t}
	}
	return c, nil
}

// dial makes a lazily connected gRPC connection to t over mTLS.
func dial(t Target) (*grpc.ClientConn, error) {
	return grpc.NewClient(t.Addr,
		grpc.WithTransportCredentials(credentials.NewTLS(t.TLS.Clone())),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxResultMessageSize)),
	)
}

func checkTarget(t Target) error {
	switch {
	case t.Site == "":
		return errors.New("site must be set")
	case t.Addr == "":
		return errors.New("addr must be set")
	case t.TLS == nil:
		return errors.New("tls must be set: sites are only reached over mTLS")
	case t.TLS.InsecureSkipVerify && t.TLS.VerifyPeerCertificate == nil && t.TLS.VerifyConnection == nil:
		return errors.New("tls skips server verification and sets no verify callback")
	case len(t.TLS.Certificates) == 0 && t.TLS.GetClientCertificate == nil:
		return errors.New("tls presents no client certificate")
	}
	return nil
}

// Close closes every site connection.
func (c *Client) Close() error {
	var errs []error
	for site, sc := range c.sites {
		if err := sc.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close connection to site %q: %w", site, err))
		}
	}
	return errors.Join(errs...)
}

// FanOut sends plans[site] to every site in plans concurrently. If any site
// fails, the shared context is cancelled so the other sites' DoGet streams
// stop, and FanOut returns a *SiteError naming the first failing site. On
// success the results come in site-name order. Each DoGet carries ctx's
// remaining deadline, shortened to the plan's Deadline when that is earlier.
func (c *Client) FanOut(ctx context.Context, plans map[string]*planner.SubPlan) ([]SiteResult, error) {
	sites, tickets, err := c.encodeAll(plans)
	if err != nil {
		return nil, err
	}
	results := make([]SiteResult, len(sites))
	g, gctx := errgroup.WithContext(ctx)
	for i, site := range sites {
		g.Go(func() error {
			start := time.Now()
			reportProgress(ctx, SiteProgress{Site: site, State: SiteRunning})
			r, err := c.fetch(gctx, site, tickets[i], plans[site])
			if err != nil {
				se := siteError(site, err)
				reportProgress(ctx, SiteProgress{Site: site, State: failedState(se.Code), Elapsed: time.Since(start)})
				if c.Observe != nil {
					c.Observe(site, se.Code, time.Since(start))
				}
				level := slog.LevelWarn
				if gctx.Err() != nil && ctx.Err() == nil {
					level = slog.LevelDebug // cancelled because a sibling failed
				}
				c.logger.Log(ctx, level, "site failed", logkey.Site, site, logkey.QueryID, plans[site].QueryID, logkey.Code, se.Code.String(), logkey.Err, se)
				return se
			}
			if c.Observe != nil {
				c.Observe(site, codes.OK, time.Since(start))
			}
			reportProgress(ctx, SiteProgress{Site: site, State: SiteDone, Rows: resultRows(r), Elapsed: time.Since(start)})
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		for i := range results {
			results[i].Release()
		}
		return nil, err
	}
	return results, nil
}

// encodeAll encodes every plan, in site-name order, before anything is
// sent, so a bad plan cannot leave other sites working on a query that is
// already lost.
func (c *Client) encodeAll(plans map[string]*planner.SubPlan) ([]string, [][]byte, error) {
	sites := make([]string, 0, len(plans))
	for site := range plans {
		sites = append(sites, site)
	}
	slices.Sort(sites)
	tickets := make([][]byte, len(sites))
	for i, site := range sites {
		sp := plans[site]
		switch {
		case c.sites[site] == nil:
			return nil, nil, &SiteError{Site: site, Code: codes.InvalidArgument, Err: errors.New("no flight target is configured for this site")}
		case sp == nil:
			return nil, nil, &SiteError{Site: site, Code: codes.InvalidArgument, Err: errors.New("sub-plan is nil")}
		case sp.Site != "" && sp.Site != site:
			return nil, nil, &SiteError{Site: site, Code: codes.InvalidArgument, Err: fmt.Errorf("sub-plan is addressed to site %q", sp.Site)}
		}
		t, err := EncodeTicket(sp)
		if err != nil {
			return nil, nil, &SiteError{Site: site, Code: codes.InvalidArgument, Err: err}
		}
		tickets[i] = t
	}
	return sites, tickets, nil
}

// fetch runs one DoGet and collects its batches.
func (c *Client) fetch(ctx context.Context, site string, ticket []byte, sp *planner.SubPlan) (SiteResult, error) {
	start := time.Now()
	if !sp.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, sp.Deadline)
		defer cancel()
	}
	// Cancelling on return tears the stream down if we stop reading early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stream, err := c.sites[site].flight.DoGet(ctx, &flight.Ticket{Ticket: ticket})
	if err != nil {
		return SiteResult{}, err
	}
	rdr, err := flight.NewRecordReader(stream)
	if err != nil {
		return SiteResult{}, err
	}
	defer rdr.Release()

	res := SiteResult{Site: site}
	var rows int64
	for rdr.Next() {
		b := rdr.RecordBatch()
		b.Retain() // the reader reuses its batch on Next
		res.Batches = append(res.Batches, b)
		rows += b.NumRows()
	}
	if err := rdr.Err(); err != nil {
		res.Release()
		return SiteResult{}, err
	}
	meta, err := parseResultMeta(rdr.Schema().Metadata())
	if err == nil && meta.Site != "" && meta.Site != site {
		err = fmt.Errorf("result is labelled as coming from site %q", meta.Site)
	}
	if err == nil && meta.Rows != rows {
		err = fmt.Errorf("site announced %d rows but sent %d", meta.Rows, rows)
	}
	if err != nil {
		res.Release()
		return SiteResult{}, &SiteError{Site: site, Code: codes.DataLoss, Err: err}
	}
	keys, vals := withoutMetaKeys(rdr.Schema().Metadata())
	md := arrow.NewMetadata(keys, vals)
	res.Schema = arrow.NewSchemaWithEndian(rdr.Schema().Fields(), &md, rdr.Schema().Endianness())
	res.Meta = meta
	res.Elapsed = time.Since(start)
	c.logger.Debug("site answered", logkey.Site, site, logkey.QueryID, sp.QueryID, logkey.Rows, rows, logkey.Elapsed, res.Elapsed)
	return res, nil
}

func parseResultMeta(md arrow.Metadata) (ResultMeta, error) {
	var m ResultMeta
	get := func(k string) string { v, _ := md.GetValue(k); return v }
	m.Site = get(MetaKeySite)
	m.BundleRevision = get(MetaKeyBundleRevision)
	m.DecisionID = get(MetaKeyDecisionID)
	m.AuditHead = get(MetaKeyAuditHead)
	m.Privacy = get(MetaKeyPrivacy)
	m.SuppressedReport = get(MetaKeySuppressedReport)
	for _, f := range []struct {
		key string
		dst *int64
	}{{MetaKeyRows, &m.Rows}, {MetaKeySuppressedGroups, &m.SuppressedGroups}} {
		v, ok := md.GetValue(f.key)
		if !ok {
			return ResultMeta{}, fmt.Errorf("result metadata lacks %q", f.key)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ResultMeta{}, fmt.Errorf("result metadata %q: %w", f.key, err)
		}
		*f.dst = n
	}
	return m, nil
}
