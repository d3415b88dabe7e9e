package fedctl

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// certsInspect prints an X.509-SVID's SPIFFE ID, trust domain and validity
// and, with --bundle, checks its chain against that trust bundle. It fails
// (exit 1) when the file is not an SVID or the chain does not verify.
func certsInspect(args []string, now time.Time, stdout, stderr io.Writer) error {
	fs := newFlags("certs inspect", stderr)
	var bundles listFlag
	fs.Var(&bundles, "bundle", "trust bundle PEM of the SVID's trust domain to verify the chain against (repeatable)")
	// Flags may come before or after the file.
	var files []string
	for rest := args; ; {
		if err := parse(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return fmt.Errorf("%w: certs inspect takes exactly one SVID file (got %d)", errUsage, len(files))
	}
	file := files[0]
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", file, err)
	}
	chain, err := parseCertChain(raw)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", file, err)
	}
	leaf := chain[0]
	id, err := x509svid.IDFromCert(leaf)
	if err != nil {
		return fmt.Errorf("inspect %s: not an X.509-SVID: %w", file, err)
	}
	fmt.Fprintf(stdout, "file:          %s\n", file)
	fmt.Fprintf(stdout, "spiffe_id:     %s\n", id)
	fmt.Fprintf(stdout, "trust_domain:  %s\n", id.TrustDomain())
	fmt.Fprintf(stdout, "serial:        %s\n", leaf.SerialNumber)
	fmt.Fprintf(stdout, "issuer:        %s\n", leaf.Issuer)
	fmt.Fprintf(stdout, "not_before:    %s\n", leaf.NotBefore.UTC().Format(time.RFC3339))
	fmt.Fprintf(stdout, "not_after:     %s (%s)\n", leaf.NotAfter.UTC().Format(time.RFC3339), expiry(leaf, now))
	fmt.Fprintf(stdout, "chain:         %d certificate(s)\n", len(chain))
	if len(bundles) == 0 {
		fmt.Fprintln(stdout, "verified:      not checked (pass --bundle to check the chain)")
		return nil
	}
	var roots []*x509.Certificate
	for _, b := range bundles {
		bb, err := x509bundle.Load(id.TrustDomain(), b)
		if err != nil {
			return fmt.Errorf("inspect %s: bundle %s: %w", file, b, err)
		}
		roots = append(roots, bb.X509Authorities()...)
	}
	if len(roots) == 0 {
		return fmt.Errorf("inspect %s: bundle %s has no certificates", file, strings.Join(bundles, ", "))
	}
	set := x509bundle.NewSet(x509bundle.FromX509Authorities(id.TrustDomain(), roots))
	if _, _, err := x509svid.Verify(chain, set, x509svid.WithTime(now)); err != nil {
		fmt.Fprintf(stdout, "verified:      NO against %s: %v\n", strings.Join(bundles, ", "), err)
		return errReported
	}
	fmt.Fprintf(stdout, "verified:      yes, chains to %s\n", strings.Join(bundles, ", "))
	return nil
}

func expiry(leaf *x509.Certificate, now time.Time) string {
	switch {
	case now.Before(leaf.NotBefore):
		return "NOT YET VALID, starts in " + leaf.NotBefore.Sub(now).Round(time.Second).String()
	case now.After(leaf.NotAfter):
		return "EXPIRED " + now.Sub(leaf.NotAfter).Round(time.Second).String() + " ago"
	}
	return "expires in " + leaf.NotAfter.Sub(now).Round(time.Second).String()
}

func parseCertChain(raw []byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		blk, raw = pem.Decode(raw)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue // a key in the same file is skipped, never printed
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(chain), err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, errors.New("no PEM certificate in file")
	}
	return chain, nil
}
