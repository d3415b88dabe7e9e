package guard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// childEnv makes the test binary act as an agent process (see TestMain): it
// sees a ticket, counts a query and records an export, prints "done" after
// the calls returned, and waits to be killed.
const childEnv = "FEDMESH_GUARD_KILL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runKillChild(path))
	}
	os.Exit(m.Run())
}

var killOpts = Options{Rate: RateOptions{Limit: 2}}

func runKillChild(path string) int {
	s, err := Open(path, killOpts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	ctx := context.Background()
	if err := s.SeenTicket(ctx, "q-kill", t0.Add(time.Hour), t0); err != nil {
		fmt.Fprintln(os.Stderr, "child: ticket:", err)
		return 1
	}
	if _, _, err := s.Allow(ctx, analyst, t0); err != nil {
		fmt.Fprintln(os.Stderr, "child: allow:", err)
		return 1
	}
	if err := s.CheckAndRecord(ctx, analyst, "t", groups(rng(1, 101)), 5, t0); err != nil {
		fmt.Fprintln(os.Stderr, "child: record:", err)
		return 1
	}
	fmt.Println("done") // stdout is unbuffered: out only after the calls returned
	select {}           // no Close: the parent kills us
}

// TestStateSurvivesKill9 runs a real writer process, kills it with SIGKILL
// right after its calls returned, and checks that a reopened store still
// knows the ticket, the counted query and the recorded export.
func TestStateSurvivesKill9(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "guard.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "done\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s, err := Open(path, killOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.SeenTicket(ctx, "q-kill", t0.Add(time.Hour), t0.Add(time.Second)); !errors.Is(err, ErrReplay) {
		t.Errorf("ticket forgotten: err = %v, want ErrReplay", err)
	}
	if n, _, err := s.Allow(ctx, analyst, t0.Add(time.Second)); err != nil || n != 2 {
		t.Errorf("query count: %d, %v; want 2, nil", n, err)
	}
	if err := s.Check(ctx, analyst, "t", groups(rng(1, 100)), 5, t0.Add(time.Second)); !errors.Is(err, ErrDifference) {
		t.Errorf("export forgotten: err = %v, want ErrDifference", err)
	}
}
