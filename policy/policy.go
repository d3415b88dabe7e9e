package policy

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/google/uuid"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// The default bundle. Its tests (policy_test.rego) stay out of the binary.
//
//go:embed bundles/default/.manifest bundles/default/data.json bundles/default/policy.rego bundles/default/dp.rego
var defaultBundleFS embed.FS

const defaultBundleRoot = "bundles/default"

var decisionRef = ast.MustParseRef(DecisionPath)

// errRead marks a bundle that could not be read (including one refused by
// signature verification); ErrVerification tells the latter apart.
var errRead = errors.New("read")

// ErrVerification: a bundle was refused because its signature is missing
// (when required), does not verify against the configured keys, or does not
// match the bundle's files.
var ErrVerification = errors.New("bundle signature verification failed")

// Policy is a loaded, compiled and self-checked bundle. It is safe for
// concurrent use; a reload builds a new Policy.
type Policy struct {
	source   string // directory, or "embedded:default"
	revision string
	query    rego.PreparedEvalQuery
	logger   *slog.Logger
}

// Load reads the bundle in directory (or .tar.gz) dir without signature
// verification (see LoadPath; files named *_test.rego are not compiled, so a
// bundle's Rego tests can live beside it), compiles it,
// prepares data.fedmesh.decision and runs the startup self-check. It fails
// if dir is missing, the bundle has no .manifest revision, does not compile,
// defines no data.fedmesh.decision, or the self-check does not get a
// well-formed decision for both sample inputs.
func Load(ctx context.Context, dir string, logger *slog.Logger) (*Policy, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: %w", dir, err)
	}
	if !info.IsDir() && !IsTarball(dir) {
		return nil, fmt.Errorf("policy bundle %q: not a directory", dir)
	}
	return LoadPath(ctx, dir, LoadOptions{}, logger)
}

// LoadDefault loads the default bundle compiled into the binary (a copy of
// policy/bundles/default). Its self-check also requires that the sample
// aggregate is allowed and the sample raw-rows plan is not.
func LoadDefault(ctx context.Context, logger *slog.Logger) (*Policy, error) {
	loader := bundle.NewFSLoaderWithRoot(defaultBundleFS, defaultBundleRoot)
	return load(ctx, "embedded:default", bundle.NewCustomReader(loader), true, logger)
}

func load(ctx context.Context, source string, r *bundle.Reader, isDefault bool, logger *slog.Logger) (*Policy, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b, err := r.WithRegoVersion(ast.RegoV1).Read()
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: %w: %w", source, errRead, err)
	}
	revision := b.Manifest.Revision
	if revision == "" {
		return nil, fmt.Errorf("policy bundle %q: .manifest must set a revision, so that every decision names the policy that made it", source)
	}
	if !definesDecision(b) {
		return nil, fmt.Errorf("policy bundle %q (revision %q): no rule defines %s", source, revision, DecisionPath)
	}
	pq, err := rego.New(
		rego.Query(DecisionPath),
		rego.ParsedBundle(source, &b),
		// A builtin error (to_number("x"), a type error) must not turn into
		// an undefined deny rule and so an allow: make it an error.
		rego.StrictBuiltinErrors(true),
		rego.SetRegoVersion(ast.RegoV1),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q (revision %q): compile: %w", source, revision, err)
	}
	p := &Policy{
		source:   source,
		revision: revision,
		query:    pq,
		logger:   logger.With(logkey.Component, "policy", logkey.Bundle, source, logkey.BundleRevision, revision),
	}
	if err := p.selfCheck(ctx, isDefault); err != nil {
		return nil, fmt.Errorf("policy bundle %q (revision %q): self-check: %w", source, revision, err)
	}
	p.logger.Info("policy bundle loaded")
	return p, nil
}

// definesDecision reports whether some rule of b produces data.fedmesh.decision
// or a document inside it.
func definesDecision(b bundle.Bundle) bool {
	for _, m := range b.Modules {
		if m.Parsed == nil {
			continue
		}
		for _, r := range m.Parsed.Rules {
			ref := r.Ref()
			if ref.HasPrefix(decisionRef) || decisionRef.HasPrefix(ref) {
				return true
			}
		}
	}
	return false
}

// Revision is the bundle's manifest revision.
func (p *Policy) Revision() string { return p.revision }

// Evaluate decides on in. It never fails open: an input it cannot convert,
// any OPA error (including a cancelled ctx), an undefined decision or one not
// shaped like a decision returns a Decision with Allow false, a reason saying
// why, and a non-nil error (wrapping ErrUndefined or ErrMalformedDecision
// where they apply).
func (p *Policy) Evaluate(ctx context.Context, in Input) (Decision, error) {
	d := Decision{BundleRevision: p.revision, DecisionID: uuid.NewString(), Path: DecisionPath}
	allow, reasons, obligations, err := p.eval(ctx, in)
	if err != nil {
		d.Reasons = []string{fmt.Sprintf(
			"fedmesh.policy_error: site %s could not evaluate its policy (bundle revision %s), so the request is denied: %v; ask the site's data officer to check the bundle",
			in.Site, p.revision, err)}
		p.logger.Warn("policy evaluation failed; denying",
			logkey.DecisionID, d.DecisionID, logkey.QueryID, in.QueryID, logkey.Site, in.Site, logkey.Err, err)
		return d, fmt.Errorf("evaluate %s (bundle %q revision %q): %w", DecisionPath, p.source, p.revision, err)
	}
	d.Allow = allow
	d.Reasons = reasons
	d.Obligations = obligations
	if !allow && len(d.Reasons) == 0 {
		d.Reasons = []string{"fedmesh.policy: denied by the site's policy, which gave no reason; ask the site's data officer"}
	}
	if d.Reasons == nil {
		d.Reasons = []string{}
	}
	p.logger.Debug("policy decision",
		logkey.DecisionID, d.DecisionID, logkey.QueryID, in.QueryID, logkey.Site, in.Site,
		logkey.Allow, d.Allow, logkey.Reasons, d.Reasons)
	return d, nil
}

func (p *Policy) eval(ctx context.Context, in Input) (bool, []string, Obligations, error) {
	// OPA checks ctx only now and then; a small policy can finish without
	// noticing a cancelled request, so check here.
	if err := ctx.Err(); err != nil {
		return false, nil, Obligations{}, err
	}
	v, err := in.astValue()
	if err != nil {
		return false, nil, Obligations{}, fmt.Errorf("build policy input: %w", err)
	}
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return false, nil, Obligations{}, err
	}
	switch {
	case len(rs) == 0 || len(rs[0].Expressions) == 0:
		return false, nil, Obligations{}, ErrUndefined
	case len(rs) > 1:
		return false, nil, Obligations{}, fmt.Errorf("%w: %d results, want 1", ErrMalformedDecision, len(rs))
	}
	return decodeDecision(rs[0].Expressions[0].Value)
}
