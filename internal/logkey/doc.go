// Package logkey is fedmesh's one set of log/slog attribute keys. Every
// slog key in non-test code is one of these constants, so one meaning has
// one key across the daemons (errors are always Err, "err"; never
// "error") and log queries can rely on them.
//
// It owns only the names. It must not hold loggers, handlers or anything
// else, so every package can import it.
package logkey
