package audit

import "fmt"

// Err reports whether the log can take appends: nil while it is open and
// healthy, ErrClosed after Close, or the sticky error (wrapping ErrFailed)
// of a failed write or fsync. A readiness check asks it: a log that
// cannot append refuses every export.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return fmt.Errorf("audit log %s: %w", l.path, ErrClosed)
	case l.failed != nil:
		return l.failed
	}
	return nil
}
