// Command site-agent serves one site's permitted aggregates to the fedmesh
// coordinator over mTLS Arrow Flight.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/config"
)

func main() {
	path := flag.String("config", "", "path to the site agent's YAML config (required)")
	check := flag.Bool("check-config", false, "load, validate and build the config without starting; print ok or every problem, exit 1 on problems")
	flag.Parse()
	if *path == "" {
		fmt.Fprintln(os.Stderr, "site-agent: -config is required")
		os.Exit(2)
	}
	if *check {
		os.Exit(checkConfig(os.Stdout, *path))
	}
	if err := run(*path); err != nil {
		fmt.Fprintln(os.Stderr, "site-agent:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	file, err := config.LoadAgent(path)
	if err != nil {
		return err
	}
	logger := file.Log.Logger(os.Stderr)
	cfg, err := agent.FromFile(ctx, file, logger)
	if err != nil {
		return err
	}
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
