package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Digest is the hex SHA-256 of in's JSON encoding. The encoding is
// canonical for Input (struct fields in a fixed order, no maps), so the
// same sub-plan always hashes the same: a decision record names the input
// it decided on without copying it.
func (in Input) Digest() (string, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("policy input digest: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// DecisionRecord is the policy part of an audit record, in the spirit of
// OPA's decision log event: which bundle decided what on which input, and
// which obligations the agent then applied.
type DecisionRecord struct {
	DecisionID     string      `json:"decision_id"`
	BundleRevision string      `json:"bundle_revision"`
	Path           string      `json:"path"`
	InputSHA256    string      `json:"input_sha256"`
	Allow          bool        `json:"allow"`
	Obligations    Obligations `json:"obligations"`
	// Applied lists the obligations the agent enforced on this request
	// (e.g. "row_filter", "min_group_size"); filled by the caller.
	Applied []Obligation `json:"obligations_applied"`
}

// Record returns d's decision record for input in.
func (d Decision) Record(in Input) DecisionRecord {
	sum, err := in.Digest()
	if err != nil {
		sum = "error: " + err.Error()
	}
	return DecisionRecord{
		DecisionID: d.DecisionID, BundleRevision: d.BundleRevision, Path: d.Path,
		InputSHA256: sum, Allow: d.Allow, Obligations: d.Obligations, Applied: []Obligation{},
	}
}
