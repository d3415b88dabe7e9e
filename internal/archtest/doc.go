// Package archtest holds the tests that keep fedmesh's import graph in
// shape (see deps_test.go); it has no code of its own.
//
// Model: the Go tree's src/go/build/deps_test.go. An invariant that matters
// is held by the import graph, and a test keeps it: here, that the site
// agent and everything it links is free of the SQL front end.
package archtest
