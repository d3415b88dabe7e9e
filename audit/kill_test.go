package audit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// childEnv makes the test binary act as a writer process (see TestMain):
// it appends from many goroutines and prints "ack SEQ HASH" for each record
// only after Append returned, until it is killed.
const childEnv = "FEDMESH_AUDIT_KILL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runKillChild(path))
	}
	os.Exit(m.Run())
}

func runKillChild(path string) int {
	l, err := Open(path, Options{Component: ComponentSiteAgent, Site: "k"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	var mu sync.Mutex
	out := os.Stdout // unbuffered: a line is out before the next Append
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				r, h, err := l.Append(context.Background(), sample(g*1_000_000+i))
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: append:", err)
					os.Exit(1)
				}
				mu.Lock()
				_, _ = fmt.Fprintf(out, "ack %d %s\n", r.Seq, h)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return 0
}

// TestKill9LosesNoAcknowledgedRecord runs a real writer process, kills it
// with SIGKILL under concurrent load, and checks that every record it
// acknowledged is in the file with the hash it acknowledged, that reopening
// continues the chain, and — simulating the power loss that can tear a
// line, which SIGKILL alone cannot — that a torn tail is cut and recorded.
func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.log")
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
	acked := map[uint64]string{}
	sc := bufio.NewScanner(stdout)
	const killAfter = 3000
	deadline := time.Now().Add(30 * time.Second)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ack" {
			t.Fatalf("child printed %q", sc.Text())
		}
		seq, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		acked[seq] = f[2]
		if !killed && (len(acked) >= killAfter || time.Now().After(deadline)) {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child exited by itself after %d acks: %s", len(acked), stderr.String())
	}
	t.Logf("child acknowledged %d records before SIGKILL", len(acked))

	check := func(stage string) []Located {
		t.Helper()
		recs, err := ReadRecords([]string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		have := map[uint64]string{}
		for _, r := range recs {
			have[r.Seq] = r.Hash
		}
		lost := 0
		for seq, h := range acked {
			if have[seq] != h {
				lost++
				if lost <= 3 {
					t.Errorf("%s: acknowledged seq %d (hash %s) is missing or different (%q)", stage, seq, short(h), short(have[seq]))
				}
			}
		}
		if lost > 0 {
			t.Errorf("%s: %d of %d acknowledged records lost", stage, lost, len(acked))
		}
		return recs
	}
	check("after SIGKILL")

	// A power cut can leave half a line: append one, as a crash would.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"v":1,"seq":999999,"time":"2026-`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	l, err := Open(path, Options{Component: ComponentSiteAgent, Site: "k"})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	if _, _, err := l.Append(context.Background(), sample(1)); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := check("after recovery")
	var recovery *Located
	for i := range recs {
		if recs[i].Event == EventRecovery {
			recovery = &recs[i]
		}
	}
	if recovery == nil || recovery.Details["cut_bytes"] != float64(len(`{"v":1,"seq":999999,"time":"2026-`)) {
		t.Errorf("no recovery record for the torn tail: %+v", recovery)
	}
	r, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("chain after crash and recovery: %v", r.Problems)
	}
}
