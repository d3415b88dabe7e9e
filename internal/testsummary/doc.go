// Command testsummary reads `go test -json` on stdin and writes what a person
// needs from a long run: each package's ok/FAIL line as it finishes, the
// output of every failing test (and of a package that failed to build or
// crashed) as it fails, then the skipped tests with their reasons and a last
// line
//
//	go test: N passed, N failed, N skipped
//
// It exits 1 when anything failed. `make test` and `make test-short` pipe
// the suite through it (`go test -json ./... | tee bin/test.json | go run
// ./internal/testsummary`).
//
// It only reads and reports: it must not run tests or decide what a test
// means. N counts tests and subtests; a package that failed with no failing
// test (a build failure, a crash, a timeout) counts as one failure.
package main
