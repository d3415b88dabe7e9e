package task

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// Task is one long-lived part of a daemon. Run must return when its ctx
// is done, with nil; any other return is the task ending by itself: nil
// when its work is finished (a refresh that is switched off, say), an
// error when it can no longer do its work.
type Task struct {
	Name string
	Run  func(ctx context.Context) error
}

// Run starts every task and supervises them until ctx is done or a task
// fails, then stops them in the reverse of the order given: each task's
// context is cancelled only once every task after it has returned. List
// what others depend on first (identity, policy) and the server last, so
// the server stops accepting and drains before the rest stop under it.
//
// Run returns once every task has returned: nil after a shutdown caused by
// ctx, else the first failure as "<name>: <err>". A task that returns nil
// early does not stop the others. A task that returns context.Canceled
// after its context was cancelled is treated as having returned nil.
func Run(ctx context.Context, tasks ...Task) error {
	// Each task's context keeps ctx's values but not its cancellation:
	// the shutdown below cancels them one by one.
	base := context.WithoutCancel(ctx)
	stops := make([]context.CancelFunc, len(tasks))
	done := make([]chan struct{}, len(tasks))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range tasks {
		tctx, stop := context.WithCancel(base)
		stops[i], done[i] = stop, make(chan struct{})
		g.Go(func() error {
			defer close(done[i])
			err := t.Run(tctx)
			if err == nil || tctx.Err() != nil && errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("%s: %w", t.Name, err)
		})
	}
	finished := make(chan struct{})
	shutdown := make(chan struct{})
	go func() {
		defer close(shutdown)
		select {
		case <-gctx.Done(): // ctx ended or a task failed
		case <-finished: // every task returned by itself
		}
		for i := len(tasks) - 1; i >= 0; i-- {
			stops[i]()
			<-done[i]
		}
	}()
	err := g.Wait()
	close(finished)
	<-shutdown
	return err
}
