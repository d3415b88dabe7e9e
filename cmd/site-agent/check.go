package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/fedmesh/fedmesh/internal/agent"
	"github.com/fedmesh/fedmesh/internal/config"
)

// checkConfig is -check-config: validate the file, then build what can be
// built without live services (agent.Check); report to w and return the
// exit status.
func checkConfig(w io.Writer, path string) int {
	file, err := config.LoadAgent(path)
	if err != nil {
		return config.ReportCheck(w, path, err, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	notChecked, err := agent.Check(ctx, file, slog.New(slog.DiscardHandler))
	return config.ReportCheck(w, path, err, notChecked)
}
