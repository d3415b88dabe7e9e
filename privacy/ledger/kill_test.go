package ledger

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// childEnv makes the test binary act as a site agent (see TestMain): it
// debits, prints "debited" only after Debit returned, and waits to be killed.
const childEnv = "FEDMESH_LEDGER_KILL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runKillChild(path))
	}
	os.Exit(m.Run())
}

func runKillChild(path string) int {
	l, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if _, err := l.Debit(context.Background(), "ana", "sales", "q-kill", 0.375, Limits{Total: 1}, day1); err != nil {
		fmt.Fprintln(os.Stderr, "child: debit:", err)
		return 1
	}
	fmt.Println("debited")  // os.Stdout is unbuffered
	time.Sleep(time.Minute) // killed long before; never Close
	return 0
}

// TestChargeSurvivesSIGKILL kills a process right after Debit returned and
// checks that the reopened ledger has the charge.
func TestChargeSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "debited\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child said %q (%v), stderr: %s", line, err, stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	_ = cmd.Wait()

	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r, err := l.Remaining("ana", Limits{Total: 1}, day1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Spent != 0.375 || r.Day.Spent != 0.375 || r.Total.Left != 0.625 {
		t.Errorf("after SIGKILL: %+v, want 0.375 spent", r)
	}
}
