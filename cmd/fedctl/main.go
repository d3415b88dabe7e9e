// Command fedctl is the fedmesh command line: dev certificates, demo set-up,
// queries and audit verification.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fedmesh/fedmesh/internal/fedctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := fedctl.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
