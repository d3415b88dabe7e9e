package audit

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultyFile wraps the real log file to inject failures and to hold the
// writer inside Sync.
type faultyFile struct {
	file
	writeErr error
	shortBy  int // write all but this many bytes and report success
	syncErr  error
	gate     chan struct{} // if set, Sync waits until it is closed
	inSync   chan struct{} // if set, receives a token each time Sync starts
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	if f.shortBy > 0 {
		return f.file.Write(p[:len(p)-f.shortBy])
	}
	return f.file.Write(p)
}

func (f *faultyFile) Sync() error {
	if f.inSync != nil {
		f.inSync <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	if f.syncErr != nil {
		return f.syncErr
	}
	return f.file.Sync()
}

// swapFile is the test hook: it replaces the Log's file under its lock.
func swapFile(l *Log, wrap func(file) file) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f = wrap(l.f)
}

func pendingLen(l *Log) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

func TestWriteFailureFailsClosed(t *testing.T) {
	t.Parallel()
	injected := errors.New("injected: input/output error")
	tests := []struct {
		name  string
		fault faultyFile
		cause error
	}{
		{name: "fsync fails", fault: faultyFile{syncErr: injected}, cause: injected},
		{name: "write fails", fault: faultyFile{writeErr: injected}, cause: injected},
		{name: "short write", fault: faultyFile{shortBy: 7}, cause: io.ErrShortWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "audit.log")
			logs := &logBuffer{}
			l := openTest(t, path, logs)
			ctx := context.Background()
			for i := 1; i <= 2; i++ {
				if _, _, err := l.Append(ctx, sample(i)); err != nil {
					t.Fatal(err)
				}
			}
			seq, head := l.Head()

			fault := tt.fault
			swapFile(l, func(real file) file { fault.file = real; return &fault })
			_, _, err := l.Append(ctx, sample(3))
			if !errors.Is(err, ErrFailed) || !errors.Is(err, tt.cause) {
				t.Fatalf("Append on failing file: err = %v, want ErrFailed wrapping %v", err, tt.cause)
			}
			// Even with a healthy file back, the log stays failed.
			swapFile(l, func(file) file { return fault.file })
			for i := 4; i <= 5; i++ {
				if _, _, err := l.Append(ctx, sample(i)); !errors.Is(err, ErrFailed) {
					t.Fatalf("Append %d after a failure: err = %v, want ErrFailed", i, err)
				}
			}
			if s, h := l.Head(); s != seq || h != head {
				t.Errorf("Head moved to %d %s after failed appends", s, h)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if !containsAll(logs.String(), "level=ERROR", "refusing all further appends") {
				t.Errorf("failure not logged; logs:\n%s", logs)
			}

			// A restart picks up from whatever reached the disk, cutting a torn write.
			l = openTest(t, path, &logBuffer{})
			if _, _, err := l.Append(ctx, sample(6)); err != nil {
				t.Fatalf("Append after reopen: %v", err)
			}
			l.Close()
			if r := verify(t, path); !r.OK() {
				t.Fatalf("after failure and reopen: %+v", r)
			}
		})
	}
}

func TestConcurrentAppendsShareOneFsync(t *testing.T) {
	t.Parallel()
	const waiting = 10
	l := openTest(t, filepath.Join(t.TempDir(), "audit.log"), &logBuffer{})
	defer l.Close()
	fault := &faultyFile{gate: make(chan struct{}), inSync: make(chan struct{}, waiting+1)}
	swapFile(l, func(real file) file { fault.file = real; return fault })

	var wg sync.WaitGroup
	errs := make(chan error, waiting+1)
	appendOne := func(i int) {
		wg.Go(func() {
			_, _, err := l.Append(context.Background(), sample(i))
			errs <- err
		})
	}
	appendOne(0)
	<-fault.inSync // the writer is now inside the first fsync
	for i := 1; i <= waiting; i++ {
		appendOne(i)
	}
	waitFor(t, func() bool { return pendingLen(l) == waiting })
	close(fault.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := l.syncs.Load(); got != 2 {
		t.Errorf("%d appends took %d fsyncs, want 2 (one, then the %d queued behind it together)", waiting+1, got, waiting)
	}
	if seq, _ := l.Head(); seq != waiting+1 {
		t.Errorf("head seq = %d, want %d", seq, waiting+1)
	}
}

func TestCancelledWaitStillWritesWholeRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openTest(t, path, &logBuffer{})
	fault := &faultyFile{gate: make(chan struct{}), inSync: make(chan struct{}, 1)}
	swapFile(l, func(real file) file { fault.file = real; return fault })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := l.Append(ctx, sample(1))
		done <- err
	}()
	<-fault.inSync
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with cancelled wait: err = %v, want context.Canceled", err)
	}
	if seq, _ := l.Head(); seq != 0 {
		t.Fatalf("head advanced to %d before fsync finished", seq)
	}
	close(fault.gate)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if r := verify(t, path); !r.OK() || r.Records != 1 {
		t.Fatalf("cancelled append left %+v, want one intact record", r)
	}
}

func TestCloseFlushesQueuedAppends(t *testing.T) {
	t.Parallel()
	const queued = 3
	path := filepath.Join(t.TempDir(), "audit.log")
	l := openTest(t, path, &logBuffer{})
	fault := &faultyFile{gate: make(chan struct{}), inSync: make(chan struct{}, queued+1)}
	swapFile(l, func(real file) file { fault.file = real; return fault })

	errs := make(chan error, queued+1)
	go func() { _, _, err := l.Append(context.Background(), sample(0)); errs <- err }()
	<-fault.inSync
	for i := 1; i <= queued; i++ {
		go func() { _, _, err := l.Append(context.Background(), sample(i)); errs <- err }()
	}
	waitFor(t, func() bool { return pendingLen(l) == queued })
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	close(fault.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for range queued + 1 {
		if err := <-errs; err != nil {
			t.Fatalf("append queued before Close: %v", err)
		}
	}
	if r := verify(t, path); !r.OK() || r.Records != queued+1 {
		t.Fatalf("after Close: %+v, want %d intact records", r, queued+1)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
