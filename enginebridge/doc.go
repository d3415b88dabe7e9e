// Package enginebridge owns the Engine interface through which a site agent
// runs planner-rendered SQL on its local engine, the adapters for each engine
// (DuckDB, PostgreSQL, MySQL/MariaDB, Flink through its SQL Gateway, Spark
// through Spark Connect), the mapping of engine column types to Arrow, and
// cancellation.
//
// An Engine only ever sees SQL rendered from a SubPlan by the planner, with
// values bound as parameters; this package must not see, parse or rewrite
// analyst SQL, and it makes no policy decisions (suppression, denied columns
// and auditing happen in the caller on the Arrow batches it returns).
//
// The rows→Arrow converter (RowsReader, TypeMap in sqlarrow.go) works on any
// database/sql driver, so adapters for PostgreSQL and MySQL reuse it with
// their own TypeMap. Conversion errors name the column and types but never
// the value, since a value may belong to a group policy would suppress.
//
// The DuckDB adapter runs an in-memory database whose only tables are views
// over operator-configured files; after setup it disables all other file
// access and locks its configuration. The PostgreSQL and MySQL adapters use
// read-only sessions and stop the server's work on cancellation (a cancel
// request; KILL QUERY); the Flink and Spark adapters declare the site's
// tables in their session and cancel the job or operation. Profiles combines several engines of one site and
// picks one per sub-plan (Chooser). Every adapter passes the conformance
// suite in conformance_test.go. See README.md for the type mappings.
package enginebridge
