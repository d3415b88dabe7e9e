package bench

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
)

func (e *env) cpus() int { return runtime.NumCPU() }

// topPath is where writeTop puts a profile's text summary.
func topPath(prof string) string { return strings.TrimSuffix(prof, ".prof") + "-top.txt" }

// writeTop writes `go tool pprof -top` (flat and cumulative) of a profile
// beside it, so that the summary can be committed without the profile.
func writeTop(prof string) error {
	var out []byte
	for _, args := range [][]string{{"-top", "-nodecount=35"}, {"-top", "-cum", "-nodecount=45"}} {
		cmd := exec.Command("go", append(append([]string{"tool", "pprof"}, args...), prof)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			b = append(b, []byte("\n(go tool pprof failed: "+err.Error()+")\n")...)
		}
		out = append(out, []byte("$ go tool pprof "+strings.Join(args, " ")+" "+prof+"\n")...)
		out = append(out, b...)
		out = append(out, '\n')
	}
	return os.WriteFile(topPath(prof), out, 0o644)
}
