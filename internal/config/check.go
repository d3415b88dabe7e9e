package config

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Problems lists what is wrong in err, one "dotted.path: what" each: the
// problems of a *ValidationError, else err's own message.
func Problems(err error) []string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []string{err.Error()}
}

// ReportCheck prints the outcome of a -check-config run to w: "ok" and
// what was not checked, or each problem on a line of its own. It returns
// the process's exit status (0 ok, 1 problems).
func ReportCheck(w io.Writer, file string, err error, notChecked []string) int {
	if err == nil {
		fmt.Fprintf(w, "%s: ok\n", file)
		for _, n := range notChecked {
			fmt.Fprintf(w, "  not checked (needs the live service): %s\n", n)
		}
		return 0
	}
	ps := Problems(err)
	fmt.Fprintf(w, "%s: %d problem(s)\n", file, len(ps))
	for _, p := range ps {
		fmt.Fprintf(w, "  %s\n", p)
	}
	return 1
}

// checkPath reports a file or directory the config names that is missing.
func checkPath(field, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// CheckIdentity builds a files identity offline (the SVID, key and
// bundles must load and match). A SPIRE or Vault identity needs the live
// service and is only checked for form (by validation); it is named in
// the returned list of what was not checked.
func (id Identity) CheckIdentity(path string) (notChecked []string, err error) {
	switch id.Source {
	case "spire":
		return []string{path + ".spire.socket (the SPIRE agent's Workload API)"}, nil
	case "vault":
		return []string{path + ".vault (Vault PKI)"}, nil
	}
	var errs []error
	for _, f := range []struct{ name, p string }{{"cert", id.Cert}, {"key", id.Key}, {"bundle", id.Bundle}} {
		if err := checkPath(path+"."+f.name, f.p); err != nil {
			errs = append(errs, err)
		}
	}
	for i, fb := range id.FederatedBundles {
		if err := checkPath(fmt.Sprintf("%s.federated_bundles[%d].bundle", path, i), fb.Bundle); err != nil {
			errs = append(errs, err)
		}
	}
	return nil, errors.Join(errs...)
}

// CheckTables reports declared table files that do not exist.
func (c *Agent) CheckTables() error {
	var errs []error
	for i, t := range c.Tables {
		if err := checkPath(fmt.Sprintf("tables[%d].path", i), t.Path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
