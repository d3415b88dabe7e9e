//go:build unix

package audit

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on f, so that a second
// writer (another process, or a second Open in this one) cannot fork the
// chain. Closing f releases it.
func lockFile(f *os.File) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	var lockErr error
	if err := conn.Control(func(fd uintptr) {
		lockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
	}); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if errors.Is(lockErr, syscall.EWOULDBLOCK) {
		return errors.New("locked by another writer; only one process may append to an audit log")
	}
	if lockErr != nil {
		return fmt.Errorf("lock: %w", lockErr)
	}
	return nil
}
