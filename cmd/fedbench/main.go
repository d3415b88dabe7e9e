// Command fedbench runs fedmesh's benchmarks (internal/bench) and writes
// bench/results/latest.json and latest.md. `make bench` runs it; `-only B3`
// runs one benchmark, `-small` shrinks every size for a quick check.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fedmesh/fedmesh/internal/bench"
	"github.com/fedmesh/fedmesh/internal/testenv"
)

func main() {
	o := bench.Defaults()
	only := flag.String("only", "", "comma-separated benchmarks to run ("+strings.Join(bench.IDs(), ",")+"); empty runs all")
	small := flag.Bool("small", false, "tiny sizes, for checking the harness")
	name := flag.String("name", "latest", "results file name (NAME.json, NAME.md)")
	flag.StringVar(&o.OutDir, "out", o.OutDir, "results directory")
	flag.StringVar(&o.WorkDir, "work", o.WorkDir, "data and scratch directory (generated data is reused)")
	flag.StringVar(&o.SiteAgentBin, "site-agent", o.SiteAgentBin, "site-agent binary for B4 (built into the work dir if empty)")
	flag.IntVar(&o.B1RowsPerSite, "b1-rows", o.B1RowsPerSite, "B1 rows per site")
	flag.IntVar(&o.B1Reps, "b1-reps", o.B1Reps, "B1 repetitions per query")
	flag.IntVar(&o.B2RowsTotal, "b2-rows", o.B2RowsTotal, "B2 rows in total (a third per database)")
	flag.IntVar(&o.B2Reps, "b2-reps", o.B2Reps, "B2 repetitions per query")
	flag.IntVar(&o.B3Runs, "b3-runs", o.B3Runs, "B3 runs")
	agents := flag.String("b4-agents", "", "B4 agent counts, e.g. 1,10,50,100")
	flag.IntVar(&o.B4Runs, "b4-runs", o.B4Runs, "B4 runs per agent count")
	flag.IntVar(&o.B5Groups, "b5-groups", o.B5Groups, "B5 result groups")
	flag.IntVar(&o.B6Clients, "b6-clients", o.B6Clients, "B6 concurrent clients")
	flag.DurationVar(&o.B6Duration, "b6-duration", o.B6Duration, "B6 duration")
	flag.IntVar(&o.B8Reps, "b8-reps", o.B8Reps, "B8 runs of each DP query per epsilon")
	flag.IntVar(&o.B8OverheadRowsPerSite, "b8-overhead-rows", o.B8OverheadRowsPerSite, "B8 overhead: B1 rows per site")
	flag.IntVar(&o.B8OverheadReps, "b8-overhead-reps", o.B8OverheadReps, "B8 overhead repetitions per query")
	flag.BoolVar(&o.Profile, "profile", o.Profile, "write CPU profiles of B1's slowest query and B3")
	flag.Parse()
	if *small {
		// Shrink every size, then let sizes given on the command line win.
		o = o.Small()
		_ = flag.CommandLine.Parse(os.Args[1:])
	}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	if *agents != "" {
		o.B4Agents = nil
		for _, s := range strings.Split(*agents, ",") {
			var n int
			if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
				fmt.Fprintf(os.Stderr, "fedbench: -b4-agents: %q is not a positive number\n", s)
				os.Exit(2)
			}
			o.B4Agents = append(o.B4Agents, n)
		}
	}
	// The PostgreSQL server scripts/engines/postgres.sh starts, as the
	// tests find it: the environment, else $FEDMESH_CACHE/env/postgres.env.
	o.PGAdminDSN, _ = testenv.Lookup("postgres", "FEDMESH_PG_ADMIN_DSN")
	o.PGDSN, _ = testenv.Lookup("postgres", "FEDMESH_PG_DSN")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	r, err := bench.Run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fedbench:", err)
		os.Exit(1)
	}
	if len(o.Only) > 0 {
		// The results file keeps the benchmarks this run did not repeat.
		if err := r.KeepPrevious(filepath.Join(o.OutDir, *name+".json")); err != nil {
			fmt.Fprintln(os.Stderr, "fedbench:", err)
			os.Exit(1)
		}
	}
	if err := r.WriteFiles(o.OutDir, *name); err != nil {
		fmt.Fprintln(os.Stderr, "fedbench:", err)
		os.Exit(1)
	}
	r.WriteMarkdown(os.Stdout)
	ran := strings.Join(o.Only, ",")
	if ran == "" {
		ran = strings.Join(bench.IDs(), ",")
	}
	fmt.Fprintf(os.Stderr, "fedbench: %s in %s; results in %s/%s.{json,md}\n", ran, time.Since(start).Round(time.Second), o.OutDir, *name)
}
