package fedctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/fedmesh/fedmesh/audit"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, splitList(s)...)
	return nil
}

func auditVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", stderr)
	var keys listFlag
	fs.Var(&keys, "key", "public key PEM file checking signed heads (repeatable, or comma-separated)")
	federation := fs.Bool("federation", false, "verify the coordinator's and the sites' logs together, cross-checking each site against the heads the coordinator recorded")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: audit verify needs at least one FILE", errUsage)
	}
	var ring audit.Keyring
	if len(keys) > 0 {
		var err error
		if ring, err = audit.LoadKeyring(keys...); err != nil {
			return err
		}
	}
	var reports []*audit.Report
	var fed *audit.FederationReport
	if *federation {
		var files []string
		for _, p := range fs.Args() {
			segs, err := logFiles(p)
			if err != nil {
				return err
			}
			files = append(files, segs...)
		}
		var err error
		if fed, err = audit.VerifyFederation(files, ring); err != nil {
			return err
		}
		reports = fed.Logs
	} else {
		for _, p := range fs.Args() {
			segs, err := logFiles(p)
			if err != nil {
				return err
			}
			r, err := audit.VerifyFiles(segs, audit.VerifyOptions{Keys: ring})
			if err != nil {
				return err
			}
			reports = append(reports, r)
		}
	}
	switch {
	case *asJSON && fed != nil:
		if err := writeIndentedJSON(stdout, fed); err != nil {
			return err
		}
	case *asJSON:
		if err := writeIndentedJSON(stdout, reports); err != nil {
			return err
		}
	case fed != nil:
		if err := fed.WriteText(stdout); err != nil {
			return err
		}
	default:
		for _, r := range reports {
			if err := r.WriteText(stdout); err != nil {
				return err
			}
		}
	}
	broken := 0
	for _, r := range reports {
		if !r.OK() {
			broken++
		}
	}
	if broken > 0 {
		fmt.Fprintf(stderr, "fedctl: %d of %d audit logs failed verification\n", broken, len(reports))
		return errReported
	}
	return nil
}

// logFiles expands a log path to its segments, oldest first: a rotated log
// is named by its active file. A path that is itself a segment, or any
// other existing file, stands for itself.
func logFiles(path string) ([]string, error) {
	segs, err := audit.Segments(path)
	if err != nil {
		return nil, err
	}
	if len(segs) > 0 {
		return segs, nil
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit log %s: no such file and no rotated segments %s.NNNNNN", path, path)
		}
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return []string{path}, nil
}

func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func auditKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit keygen", stderr)
	out := fs.String("out", "", "private key file to create (PEM); the public key goes next to it as NAME.pub.pem")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: audit keygen needs --out FILE and nothing else", errUsage)
	}
	id, err := audit.GenerateKey(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (private, keep it with the component) and %s (public, give it to auditors); key id %s\n", *out, audit.PublicKeyPath(*out), id)
	return nil
}
