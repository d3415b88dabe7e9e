package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/coordinator"
)

// agentProc is one site-agent process B4 started.
type agentProc struct {
	site string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// siteName names B4's i-th site.
func siteName(i int) string { return fmt.Sprintf("s%03d", i) }

// freePort returns a 127.0.0.1 address below Linux's ephemeral range
// (32768+) that is free now, so that outgoing connections made while 100
// agents start cannot take it. Another process could still bind it first;
// startAgents then retries that agent on another port.
func freePort() (string, error) {
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		return addr, lis.Close()
	}
	return "", errors.New("no free port between 20000 and 32000 on 127.0.0.1")
}

// siteAgentBin returns the site-agent binary, building it if need be.
func siteAgentBin(ctx context.Context, e *env, work string) (string, error) {
	if e.opts.SiteAgentBin != "" {
		return e.opts.SiteAgentBin, nil
	}
	bin := filepath.Join(work, "site-agent")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/site-agent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build site-agent (run from the repository root or pass -site-agent): %w\n%s", err, out)
	}
	return bin, nil
}

// startAgents starts n site-agent processes over a shared tiny Parquet file.
func startAgents(ctx context.Context, bin, work string, n int) ([]*agentProc, error) {
	tiny := filepath.Join(work, "tiny.parquet")
	if err := duckExec(ctx, filepath.Join(work, "gen.duckdb"),
		fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", salesSelect(0, tinyRows), tiny)); err != nil {
		return nil, err
	}
	names := make([]string, n)
	for i := range n {
		names[i] = siteName(i)
	}
	certDir := filepath.Join(work, "certs")
	if _, err := certs.InitDevCA(certs.DevCAOptions{TrustDomain: trustDomain.Name(), OutDir: certDir, Sites: names, Force: true}); err != nil {
		return nil, fmt.Errorf("dev CA: %w", err)
	}
	var procs []*agentProc
	for _, s := range names {
		p, err := startAgent(bin, work, certDir, tiny, s)
		if err != nil {
			stopAgents(procs)
			return nil, err
		}
		procs = append(procs, p)
	}
	// Wait until every agent accepts connections; one that lost its port
	// to another process is started again on another.
	deadline := time.Now().Add(3 * time.Minute)
	for i := range procs {
		retries := 0
		for {
			p := procs[i]
			select {
			case <-p.done:
				log, _ := os.ReadFile(filepath.Join(work, p.site+".log"))
				if strings.Contains(string(log), "address already in use") && retries < 3 {
					retries++
					np, err := startAgent(bin, work, certDir, tiny, p.site)
					if err != nil {
						stopAgents(procs)
						return nil, err
					}
					procs[i] = np
					continue
				}
				stopAgents(procs)
				return nil, fmt.Errorf("agent %s exited: %v\n%s", p.site, p.err, tail(string(log), 1000))
			default:
			}
			c, err := net.DialTimeout("tcp", p.addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				stopAgents(procs)
				return nil, fmt.Errorf("agent %s not listening on %s after 3 minutes", p.site, p.addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return procs, nil
}

// startAgent writes site s's config and starts its process.
func startAgent(bin, work, certDir, tiny, s string) (*agentProc, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cert, key := certs.Paths(certDir, certs.SiteFileName(s))
	cfg := config.Agent{
		Site:                s,
		Listen:              addr,
		Identity:            config.Identity{Source: "files", Cert: cert, Key: key, Bundle: filepath.Join(certDir, certs.BundleFile)},
		AllowedCoordinators: []string{certs.CoordinatorID(trustDomain).String()},
		Engine:              config.Engine{Threads: 1, MemoryLimit: "64MB"},
		Tables:              []config.Table{{Name: "sales", Format: "parquet", Path: tiny}},
		Policy:              config.Policy{Bundle: config.BuiltinDefaultBundle},
		Audit:               config.Audit{Path: filepath.Join(work, "audit-"+s+".log")},
		Log:                 config.Log{Level: "warn"},
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(work, s+".yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(work, s+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start agent %s: %w", s, err)
	}
	p := &agentProc{site: s, addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stopAgents sends SIGTERM to each process B4 started and waits for it,
// killing one that has not stopped after 15 s.
func stopAgents(procs []*agentProc) {
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// memMB sums the processes' proportional set size (shared pages such as
// the binary's text split among the processes mapping them), in MB; it
// falls back to resident size where smaps_rollup cannot be read.
func memMB(procs []*agentProc) float64 {
	var kb int64
	for _, p := range procs {
		kb += procKB(p.cmd.Process.Pid, "smaps_rollup", "Pss:", "status", "VmRSS:")
	}
	return float64(kb) / 1024
}

func procKB(pid int, file, key, fallbackFile, fallbackKey string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		if fallbackFile == "" {
			return 0
		}
		return procKB(pid, fallbackFile, fallbackKey, "", "")
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, key) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

// startCoordinatorFor runs an in-process coordinator over the given agents.
func startCoordinatorFor(ctx context.Context, e *env, work string, procs []*agentProc) (*federation, error) {
	certDir := filepath.Join(work, "certs")
	src, err := loadSource(certDir, certs.CoordinatorName)
	if err != nil {
		return nil, err
	}
	var sites []coordinator.Site
	for _, p := range procs {
		id, err := certs.SiteID(trustDomain, p.site)
		if err != nil {
			return nil, err
		}
		sites = append(sites, coordinator.Site{Name: p.site, Addr: p.addr, ID: id})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	f := &federation{cancel: cancel, token: "bench-token", url: "http://" + lis.Addr().String()}
	f.client = newHTTPClient()
	f.analyst = coordinator.Analyst{ID: "bench", Roles: []string{"analyst"}, TokenSHA256: coordinator.TokenHash(f.token)}
	ready := make(chan error, 1)
	c, err := coordinator.New(coordinator.Config{
		Listener: lis, Identity: src, Sites: sites, Analysts: []coordinator.Analyst{f.analyst},
		AuditPath: filepath.Join(work, fmt.Sprintf("audit-coordinator-%d.log", len(procs))), QueryTimeout: 60 * time.Second,
		Logger: e.log, Ready: func(net.Addr) { ready <- nil },
	})
	if err != nil {
		cancel()
		return nil, err
	}
	f.coord = c
	f.goRun("coordinator", func() error { return c.Run(rctx) }, ready)
	select {
	case err := <-ready:
		if err != nil {
			f.stop()
			return nil, err
		}
	case <-ctx.Done():
		f.stop()
		return nil, ctx.Err()
	}
	return f, nil
}

func runB4(ctx context.Context, e *env, b *Bench) error {
	maxN := 0
	for _, n := range e.opts.B4Agents {
		maxN = max(maxN, n)
	}
	if maxN == 0 {
		return errors.New("no agent counts given")
	}
	work, err := os.MkdirTemp(e.opts.WorkDir, "b4-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, err := siteAgentBin(ctx, e, work)
	if err != nil {
		return err
	}
	e.progress("B4: starting %d site-agent processes", maxN)
	t0 := time.Now()
	procs, err := startAgents(ctx, bin, work, maxN)
	if err != nil {
		return err
	}
	defer stopAgents(procs)
	startup := time.Since(t0)
	// Listening is not idle: let the agents finish starting up (engine,
	// policy compilation) so their start does not land in the first runs.
	settle := 15 * time.Second
	if maxN < 10 {
		settle = time.Second
	}
	time.Sleep(settle)
	b.Setup = []string{
		fmt.Sprintf("%d site-agent processes (bin/site-agent, DuckDB threads 1, memory_limit 64MB, one %d-row Parquet table each, built-in policy, durable audit), each on its own 127.0.0.1 port with its own SVID; all were up after %.1f s, then left %s to settle", maxN, tinyRows, startup.Seconds(), settle),
		fmt.Sprintf("an in-process coordinator over the first N of them; query %s through the HTTP API; %d sequential runs per N after 10 warm-ups (which open the N mTLS connections)", trivialSQL, e.opts.B4Runs),
		fmt.Sprintf("everything shares %d cores: at N = 100 one query wakes 100 processes, each evaluating policy, querying DuckDB and fsyncing its audit log", e.cpus()),
	}
	b.Columns = []string{"agents", "p50 ms", "p90 ms", "p99 ms", "max ms", "agents' memory MB (PSS, total)", "per agent MB"}
	var at100 *Summary
	for _, n := range e.opts.B4Agents {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fed, err := startCoordinatorFor(ctx, e, work, procs[:n])
		if err != nil {
			return fmt.Errorf("coordinator for %d agents: %w", n, err)
		}
		var ds []time.Duration
		err = func() error {
			for range 10 {
				if _, err := fed.httpQuery(ctx, trivialSQL); err != nil {
					return fmt.Errorf("warm-up with %d agents: %w", n, err)
				}
			}
			for range e.opts.B4Runs {
				t0 := time.Now()
				if _, err := fed.httpQuery(ctx, trivialSQL); err != nil {
					return fmt.Errorf("%d agents: %w", n, err)
				}
				ds = append(ds, time.Since(t0))
			}
			return nil
		}()
		if serr := fed.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		s := Summarize(ds)
		rss := memMB(procs)
		b.row(fmt.Sprint(n), f2(s.P50), f2(s.P90), f2(s.P99), f1(s.Max), fmt.Sprintf("%.0f (all %d running)", rss, maxN), fmt.Sprintf("%.0f", rss/float64(maxN)))
		b.set(fmt.Sprintf("agents_%d", n), map[string]any{"latency": s, "pss_mb_all_agents": rss})
		e.progress("B4: %d agents: p50 %.1f ms, p99 %.1f ms", n, s.P50, s.P99)
		if n == 100 {
			at100 = &s
		}
	}
	switch {
	case at100 == nil:
		b.Status = "partial"
		b.note("target not measured: no run at 100 agents (sizes: %v)", e.opts.B4Agents)
	case at100.P99 < 100:
		b.note("target met: p99 %.1f ms < 100 at 100 agents", at100.P99)
	default:
		b.Status = "partial"
		b.note("target missed: p99 %.1f ms at 100 agents (target < 100)", at100.P99)
	}
	return nil
}
