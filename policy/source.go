package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// LoadOptions tune how a bundle is read.
type LoadOptions struct {
	// Verification, when set, makes the loader check the bundle's
	// .signatures.json with OPA's bundle verification. See VerificationConfig.
	Verification *bundle.VerificationConfig
	// MaxBytes bounds each file of a bundle (0: 64 MiB).
	MaxBytes int64
}

const defaultMaxBundleFileBytes = 64 << 20

// IsTarball reports whether path names a bundle tarball (.tar.gz or .tgz)
// rather than a bundle directory.
func IsTarball(path string) bool {
	return strings.HasSuffix(path, ".tar.gz") || strings.HasSuffix(path, ".tgz")
}

// LoadPath loads the bundle at path: an OPA bundle directory or a .tar.gz
// built by `opa build` (and optionally signed by `opa sign` or `opa build
// --signing-key`). With opts.Verification set, an unsigned bundle (when
// signatures are required), a bundle whose signature does not verify against
// the configured keys, or one with a file whose digest differs from the
// signed one is refused with an error wrapping ErrVerification.
//
// In a directory, files named *_test.rego are skipped.
func LoadPath(ctx context.Context, path string, opts LoadOptions, logger *slog.Logger) (*Policy, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: %w", path, err)
	}
	if !info.IsDir() {
		if !IsTarball(path) {
			return nil, fmt.Errorf("policy bundle %q: neither a directory nor a .tar.gz bundle", path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("policy bundle %q: %w", path, err)
		}
		return LoadTarball(ctx, path, raw, opts, logger)
	}
	return loadWith(ctx, path, bundle.NewDirectoryLoader(path).WithFilter(skipRegoTests), opts, logger)
}

// LoadTarball loads a bundle tarball held in memory (read from a file or
// fetched from a bundle server); name identifies it in errors and logs.
func LoadTarball(ctx context.Context, name string, raw []byte, opts LoadOptions, logger *slog.Logger) (*Policy, error) {
	return loadWith(ctx, name, bundle.NewTarballLoader(bytes.NewReader(raw)), opts, logger)
}

func loadWith(ctx context.Context, source string, loader bundle.DirectoryLoader, opts LoadOptions, logger *slog.Logger) (*Policy, error) {
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = defaultMaxBundleFileBytes
	}
	r := bundle.NewCustomReader(loader).WithSizeLimitBytes(limit)
	if opts.Verification != nil {
		r = r.WithBundleVerificationConfig(opts.Verification)
	}
	p, err := load(ctx, source, r, false, logger)
	if err != nil && opts.Verification != nil && errors.Is(err, errRead) {
		// Tell a signature problem from a malformed bundle: if the bundle
		// reads without verification, verification is what refused it.
		if _, rerr := bundle.NewCustomReader(loader).WithSkipBundleVerification(true).WithSizeLimitBytes(limit).Read(); rerr == nil {
			return nil, fmt.Errorf("%w: %w", ErrVerification, err)
		}
	}
	return p, err
}

// skipRegoTests keeps *_test.rego files out of a directory bundle, so that a
// data officer's Rego tests (package fedmesh_test, outside the bundle's
// roots) can live beside the policy. A signed bundle must therefore be signed
// without them (README.md: "Signing").
func skipRegoTests(_ string, info fs.FileInfo, _ int) bool {
	return !info.IsDir() && strings.HasSuffix(info.Name(), "_test.rego")
}
