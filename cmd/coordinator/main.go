// Command coordinator answers analysts' federated SQL over HTTP by fanning
// sub-plans out to fedmesh site agents and merging what they permit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/coordinator"
)

func main() {
	path := flag.String("config", "", "path to the coordinator's YAML config (required)")
	check := flag.Bool("check-config", false, "load, validate and build the config without starting; print ok or every problem, exit 1 on problems")
	flag.Parse()
	if *path == "" {
		fmt.Fprintln(os.Stderr, "coordinator: -config is required")
		os.Exit(2)
	}
	if *check {
		os.Exit(checkConfig(os.Stdout, *path))
	}
	if err := run(*path); err != nil {
		fmt.Fprintln(os.Stderr, "coordinator:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	file, err := config.LoadCoordinator(path)
	if err != nil {
		return err
	}
	cfg, err := coordinator.FromFile(file, file.Log.Logger(os.Stderr))
	if err != nil {
		return err
	}
	c, err := coordinator.New(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}
