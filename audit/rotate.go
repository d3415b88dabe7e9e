package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// segmentDigits is the width of a rotated segment's number: path.000001.
const segmentDigits = 6

// Segments returns the files of the log at path in chain order: rotated
// segments path.000001, path.000002, … then path itself if it exists.
func Segments(path string) ([]string, error) {
	nums, err := segmentNumbers(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nums {
		out = append(out, segmentName(path, n))
	}
	if _, err := os.Stat(path); err == nil {
		out = append(out, path)
	}
	return out, nil
}

func segmentName(path string, n int) string {
	return fmt.Sprintf("%s.%0*d", path, segmentDigits, n)
}

func segmentNumbers(path string) ([]int, error) {
	matches, err := filepath.Glob(path + ".*")
	if err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", path, err)
	}
	var nums []int
	for _, m := range matches {
		suffix := strings.TrimPrefix(m, path+".")
		if len(suffix) < segmentDigits {
			continue
		}
		n, err := strconv.Atoi(suffix)
		if err != nil || n <= 0 {
			continue
		}
		nums = append(nums, n)
	}
	sort.Ints(nums)
	return nums, nil
}

func (l *Log) rotateDue(extra int64) bool {
	if l.size+extra == 0 {
		return false
	}
	return l.rotSize > 0 && l.size+extra >= l.rotSize ||
		l.rotAge > 0 && l.now().Sub(l.segStart) >= l.rotAge
}

// rotate renames the active file to the next segment name and starts a new
// active file. It runs in the writer goroutine after a successful fsync. A
// failure fails the log closed: appends must not continue into a file
// nobody can find.
func (l *Log) rotate() {
	err := l.rotateFile()
	if err == nil {
		return
	}
	failed := fmt.Errorf("%w: rotate: %w", ErrFailed, err)
	l.mu.Lock()
	l.failed = failed
	l.mu.Unlock()
	l.logger.Error("audit log rotation failed; refusing all further appends", logkey.Err, err)
}

func (l *Log) rotateFile() error {
	nums, err := segmentNumbers(l.path)
	if err != nil {
		return err
	}
	next := 1
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	name := segmentName(l.path, next)
	if err := os.Rename(l.path, name); err != nil {
		return fmt.Errorf("rename %s to %s: %w", l.path, name, err)
	}
	nf, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create new segment %s: %w", l.path, err)
	}
	if err := lockFile(nf); err != nil {
		nf.Close()
		return fmt.Errorf("lock new segment %s: %w", l.path, err)
	}
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		nf.Close()
		return fmt.Errorf("rotate %s: %w", l.path, err)
	}
	l.mu.Lock()
	old := l.f
	l.f = nf
	l.mu.Unlock()
	if err := old.Close(); err != nil {
		l.logger.Warn("close rotated audit segment", logkey.Err, err, logkey.AuditPath, name)
	}
	l.size, l.segStart = 0, l.now()
	l.logger.Info("rotated audit log", logkey.Segment, name)
	return nil
}
