package task

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// waiter is a task that runs until its context ends, recording when it
// stopped.
func waiter(name string, mu *sync.Mutex, stopped *[]string) Task {
	return Task{Name: name, Run: func(ctx context.Context) error {
		<-ctx.Done()
		mu.Lock()
		*stopped = append(*stopped, name)
		mu.Unlock()
		return nil
	}}
}

func TestFailingTaskStopsTheRestAndNamesItself(t *testing.T) {
	t.Parallel()
	errBroken := errors.New("broken")
	var mu sync.Mutex
	var stopped []string
	err := Run(context.Background(),
		waiter("identity", &mu, &stopped),
		Task{Name: "policy watcher", Run: func(context.Context) error { return errBroken }},
		waiter("server", &mu, &stopped),
	)
	if !errors.Is(err, errBroken) || err.Error() != "policy watcher: broken" {
		t.Fatalf("Run = %v, want %q wrapping the task's error", err, "policy watcher: broken")
	}
	if want := []string{"server", "identity"}; !slices.Equal(stopped, want) {
		t.Errorf("tasks stopped in order %v, want %v", stopped, want)
	}
}

func TestShutdownStopsTasksInReverseOrder(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var stopped []string
	// The server takes a while to drain; the identity must still be
	// running until it has.
	drained := make(chan struct{})
	identity := Task{Name: "identity", Run: func(ctx context.Context) error {
		<-ctx.Done()
		select {
		case <-drained:
		default:
			t.Error("identity stopped before the server drained")
		}
		mu.Lock()
		stopped = append(stopped, "identity")
		mu.Unlock()
		return ctx.Err() // context.Canceled after a cancel counts as a clean stop
	}}
	server := Task{Name: "server", Run: func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		close(drained)
		mu.Lock()
		stopped = append(stopped, "server")
		mu.Unlock()
		return nil
	}}
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, identity, waiter("catalog", &mu, &stopped), server) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	if want := []string{"server", "catalog", "identity"}; !slices.Equal(stopped, want) {
		t.Errorf("tasks stopped in order %v, want %v", stopped, want)
	}
}

func TestTaskFinishingEarlyKeepsTheOthersRunning(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var stopped []string
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Task{Name: "one-shot", Run: func(context.Context) error { return nil }}, waiter("server", &mu, &stopped))
	}()
	select {
	case err := <-errc:
		t.Fatalf("Run returned %v while the server should still run", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestAllTasksFinishing(t *testing.T) {
	t.Parallel()
	done := func(context.Context) error { return nil }
	if err := Run(context.Background(), Task{Name: "a", Run: done}, Task{Name: "b", Run: done}); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := Run(context.Background()); err != nil {
		t.Fatalf("Run without tasks = %v", err)
	}
}
