// Package bench is fedmesh's benchmark harness (issue 7): federated versus
// centralized DuckDB (B1), fedmesh versus postgres_fdw (B2), coordinator
// overhead (B3), fan-out to many agents (B4), Flight result transfer (B5)
// and sustained load (B6). It starts real agents and a real coordinator
// over mTLS on 127.0.0.1, runs each comparison on the same data in the same
// run, and reports medians, percentiles and ratios as JSON and markdown.
//
// It is run by cmd/fedbench (`make bench`), never by `make test`: timings
// depend on the machine and its load, so nothing here asserts a threshold.
// It must not reach any address outside the loopback range.
package bench
