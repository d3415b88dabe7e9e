package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowflight "github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/sqlfront"
)

// groupBatches builds an aggregate result of n groups, as a site exports it
// for `SELECT sku, COUNT(*), SUM(amount) ... GROUP BY sku`: int32 key,
// int64 count, float64 sum, in batches of 65,536 rows (the engine default).
func groupBatches(n int) (*arrow.Schema, []arrow.RecordBatch) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "sku", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "total", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	const per = 65536
	var out []arrow.RecordBatch
	for start := 0; start < n; start += per {
		m := min(per, n-start)
		bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		k := bld.Field(0).(*array.Int32Builder)
		c := bld.Field(1).(*array.Int64Builder)
		s := bld.Field(2).(*array.Float64Builder)
		for i := range m {
			g := start + i
			k.Append(int32(g))
			c.Append(10 + int64(g%7))
			s.Append(float64(g%100000) / 3)
		}
		out = append(out, bld.NewRecordBatch())
		bld.Release()
	}
	return schema, out
}

// batchBytes is the Arrow buffer bytes of bs: what the IPC stream carries,
// give or take padding and message headers.
func batchBytes(bs []arrow.RecordBatch) int64 {
	var n int64
	for _, b := range bs {
		for _, col := range b.Columns() {
			for _, buf := range col.Data().Buffers() {
				if buf != nil {
					n += int64(buf.Len())
				}
			}
		}
	}
	return n
}

// stubHandler is a flight.Handler that exports fixed batches: fedmesh's
// server and client path without engine, policy or audit.
type stubHandler struct {
	site    string
	schema  *arrow.Schema
	batches []arrow.RecordBatch
}

func (h *stubHandler) Serve(_ context.Context, _ spiffeid.ID, _ *planner.SubPlan) (*flight.Result, error) {
	for _, b := range h.batches {
		b.Retain() // the server releases what it streams
	}
	return &flight.Result{Schema: h.schema, Batches: h.batches, Meta: flight.ResultMeta{Site: h.site}}, nil
}

// stubFederation is fedmesh's Flight server for each site (with a stub
// handler) and the coordinator's Flight client, over mTLS on 127.0.0.1.
type stubFederation struct {
	client *flight.Client
	plans  map[string]*planner.SubPlan
	tls    map[string]*tls.Config // client TLS per site, for bare clients
	srvTLS *tls.Config            // site a's server TLS, for bare servers
	addrs  map[string]string
	stop   func()
}

func startStubs(ctx context.Context, work string, sites []string, schema *arrow.Schema, batches []arrow.RecordBatch) (*stubFederation, error) {
	certDir := filepath.Join(work, "certs")
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: trustDomain.Name(), OutDir: certDir, Sites: sites, Force: true}); err != nil {
		return nil, fmt.Errorf("dev CA: %w", err)
	}
	coordSrc, err := loadSource(certDir, certs.CoordinatorName)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	sf := &stubFederation{plans: map[string]*planner.SubPlan{}, tls: map[string]*tls.Config{}, addrs: map[string]string{}}
	done := make(chan struct{}, len(sites))
	sf.stop = func() {
		cancel()
		for range sites {
			<-done
		}
	}
	q, err := sqlfront.Parse(`SELECT sku, COUNT(*) AS n, SUM(amount) AS total FROM sales GROUP BY sku`)
	if err != nil {
		cancel()
		return nil, err
	}
	meta := planner.SubPlanMeta{QueryID: "bench", Analyst: "bench", Roles: []string{"analyst"}, Purpose: "benchmark", Deadline: time.Now().Add(time.Hour)}
	var targets []flight.Target
	for _, sp := range planner.Split(q, sites, meta) {
		sf.plans[sp.Site] = sp
	}
	for _, s := range sites {
		src, err := loadSource(certDir, certs.SiteFileName(s))
		if err != nil {
			sf.stop()
			return nil, err
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			sf.stop()
			return nil, err
		}
		srvTLS := certs.ServerTLS(src, certs.CoordinatorID(trustDomain))
		if sf.srvTLS == nil {
			sf.srvTLS = srvTLS
		}
		creds, err := flight.ServerCredentials(srvTLS)
		if err != nil {
			sf.stop()
			return nil, err
		}
		srv := flight.NewServer(&stubHandler{site: s, schema: schema, batches: batches}, discardLogger())
		go func() { _ = srv.Serve(rctx, lis, creds); done <- struct{}{} }()
		id, _ := certs.SiteID(trustDomain, s)
		sf.tls[s] = certs.ClientTLS(coordSrc, id)
		sf.addrs[s] = lis.Addr().String()
		targets = append(targets, flight.Target{Site: s, Addr: lis.Addr().String(), TLS: sf.tls[s]})
	}
	client, err := flight.NewClient(targets, discardLogger())
	if err != nil {
		sf.stop()
		return nil, err
	}
	sf.client = client
	stop := sf.stop
	sf.stop = func() { client.Close(); stop() }
	return sf, nil
}

// fanOut runs one fedmesh fan-out and releases the results.
func (sf *stubFederation) fanOut(ctx context.Context) (int64, error) {
	res, err := sf.client.FanOut(ctx, sf.plans)
	if err != nil {
		return 0, err
	}
	var rows int64
	for i := range res {
		for _, b := range res[i].Batches {
			rows += b.NumRows()
		}
		res[i].Release()
	}
	return rows, nil
}

// bareServer is a plain arrow-go Flight server streaming fixed batches.
type bareServer struct {
	arrowflight.BaseFlightServer
	schema  *arrow.Schema
	batches []arrow.RecordBatch
}

func (s *bareServer) DoGet(_ *arrowflight.Ticket, stream arrowflight.FlightService_DoGetServer) error {
	w := arrowflight.NewRecordWriter(stream, ipc.WithSchema(s.schema))
	for _, b := range s.batches {
		if err := w.Write(b); err != nil {
			return err
		}
	}
	return w.Close()
}

// startBare serves a bareServer on 127.0.0.1 with creds (nil = plaintext)
// and returns a client to it.
func startBare(schema *arrow.Schema, batches []arrow.RecordBatch, srvTLS, cliTLS *tls.Config) (arrowflight.Client, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	var sopts []grpc.ServerOption
	dial := []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(flight.MaxResultMessageSize))}
	if srvTLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(srvTLS)))
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(cliTLS)))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	gs := grpc.NewServer(sopts...)
	arrowflight.RegisterFlightServiceServer(gs, &bareServer{schema: schema, batches: batches})
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), dial...)
	if err != nil {
		gs.Stop()
		return nil, nil, err
	}
	return arrowflight.NewClientFromConn(conn, nil), func() { conn.Close(); gs.Stop() }, nil
}

// bareGet runs one DoGet, keeping every batch until the end as fedmesh's
// client does, and returns the rows.
func bareGet(ctx context.Context, c arrowflight.Client) (int64, error) {
	stream, err := c.DoGet(ctx, &arrowflight.Ticket{Ticket: []byte("x")})
	if err != nil {
		return 0, err
	}
	rdr, err := arrowflight.NewRecordReader(stream)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	var kept []arrow.RecordBatch
	var rows int64
	for rdr.Next() {
		b := rdr.RecordBatch()
		b.Retain()
		kept = append(kept, b)
		rows += b.NumRows()
	}
	release(kept)
	return rows, rdr.Err()
}

func runB5(ctx context.Context, e *env, b *Bench) error {
	n := e.opts.B5Groups
	schema, batches := groupBatches(n)
	defer release(batches)
	bytes := batchBytes(batches)
	work, err := os.MkdirTemp(e.opts.WorkDir, "b5-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	sf, err := startStubs(ctx, work, []string{"a"}, schema, batches)
	if err != nil {
		return err
	}
	defer sf.stop()
	bareTLS, stopTLS, err := startBare(schema, batches, sf.srvTLS, sf.tls["a"])
	if err != nil {
		return err
	}
	defer stopTLS()
	barePlain, stopPlain, err := startBare(schema, batches, nil, nil)
	if err != nil {
		return err
	}
	defer stopPlain()
	b.Setup = []string{
		fmt.Sprintf("payload: %d groups (int32 key, int64 count, float64 sum) in %d batches of ≤ 65,536 rows = %.1f MB of Arrow buffers", n, len(batches), float64(bytes)/1e6),
		"fedmesh: the site agent's Flight server (flight.Server with a handler returning the prepared batches: no engine, policy or audit) → the coordinator's flight.Client.FanOut (ticket encode, DoGet, IPC decode, metadata checks, batches kept), mTLS with SPIFFE IDs",
		"bare: a plain arrow-go Flight DoGet server writing the same batches and a plain arrow-go client keeping them, over the same mTLS, and over plaintext gRPC",
		fmt.Sprintf("server and client in one process on 127.0.0.1, sharing %d cores; %d repetitions after a warm-up, medians; MB/s = Arrow buffer bytes / wall time", e.cpus(), e.opts.B5Reps),
	}
	paths := []struct {
		name string
		get  func() (int64, error)
	}{
		{"fedmesh Flight path (mTLS)", func() (int64, error) { return sf.fanOut(ctx) }},
		{"bare arrow-go DoGet (same mTLS)", func() (int64, error) { return bareGet(ctx, bareTLS) }},
		{"bare arrow-go DoGet (plaintext)", func() (int64, error) { return bareGet(ctx, barePlain) }},
	}
	times := make([][]time.Duration, len(paths))
	for _, p := range paths {
		rows, err := p.get()
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if rows != int64(n) {
			return fmt.Errorf("%s: got %d rows, want %d", p.name, rows, n)
		}
	}
	for range e.opts.B5Reps {
		for i, p := range paths {
			t0 := time.Now()
			if _, err := p.get(); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			times[i] = append(times[i], time.Since(t0))
		}
	}
	b.Columns = []string{"path", "p50 ms", "MB/s", "× bare (same mTLS)"}
	sums := make([]Summary, len(paths))
	for i := range paths {
		sums[i] = Summarize(times[i])
	}
	mbps := func(s Summary) float64 { return float64(bytes) / 1e6 / (s.P50 / 1e3) }
	for i, p := range paths {
		b.row(p.name, f1(sums[i].P50), fmt.Sprintf("%.0f", mbps(sums[i])), f2(ratio(sums[1].P50, sums[i].P50)))
		b.set(p.name, map[string]any{"latency": sums[i], "mb_per_s": mbps(sums[i])})
	}
	b.set("bytes", bytes)
	fm, rel := mbps(sums[0]), ratio(sums[1].P50, sums[0].P50)
	switch {
	case fm >= 1000 && rel >= 0.5:
		b.note("target met: %.0f MB/s ≥ 1 GB/s, %.2f × bare ≥ 0.5", fm, rel)
	default:
		b.Status = "partial"
		b.note("target missed: %.0f MB/s (target ≥ 1000), %.2f × bare (target ≥ 0.5)", fm, rel)
	}
	e.progress("B5: fedmesh %.0f MB/s, bare mTLS %.0f MB/s, bare plaintext %.0f MB/s", fm, mbps(sums[1]), mbps(sums[2]))
	return nil
}
