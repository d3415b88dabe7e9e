package fedctl

import (
	"fmt"
	"io"

	"github.com/fedmesh/fedmesh/audit"
)

func auditVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: audit verify needs at least one FILE", errUsage)
	}
	broken := 0
	for _, path := range fs.Args() {
		rep, err := audit.VerifyFile(path)
		if err != nil {
			return err
		}
		if err := rep.WriteText(stdout); err != nil {
			return err
		}
		if !rep.OK() {
			broken++
		}
	}
	if broken > 0 {
		fmt.Fprintf(stderr, "fedctl: %d of %d audit logs failed verification\n", broken, fs.NArg())
		return errReported
	}
	return nil
}
