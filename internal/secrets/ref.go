package secrets

import (
	"fmt"
	"strings"
)

// RefPrefix starts a Vault reference.
const RefPrefix = "vault:"

// Ref is a parsed Vault reference: the API path of a KV secret and one
// field of it. For KV version 2 the path includes "data/"
// (secret/data/site-a/pg); a KV version 1 path is read as is.
type Ref struct {
	Path  string
	Field string
}

func (r Ref) String() string { return RefPrefix + r.Path + "#" + r.Field }

// IsRef reports whether s is a secret reference rather than a literal.
func IsRef(s string) bool { return strings.HasPrefix(s, RefPrefix) }

// ParseRef parses "vault:<path>#<field>".
func ParseRef(s string) (Ref, error) {
	rest, ok := strings.CutPrefix(s, RefPrefix)
	if !ok {
		return Ref{}, fmt.Errorf("secret reference %q: must start with %q", s, RefPrefix)
	}
	path, field, ok := strings.Cut(rest, "#")
	path = strings.Trim(path, "/")
	switch {
	case !ok || field == "":
		return Ref{}, fmt.Errorf("secret reference %q: name a field after '#', e.g. vault:secret/data/site-a/pg#password", s)
	case path == "":
		return Ref{}, fmt.Errorf("secret reference %q: path is empty", s)
	case strings.Contains(field, "#"):
		return Ref{}, fmt.Errorf("secret reference %q: more than one '#'", s)
	}
	return Ref{Path: path, Field: field}, nil
}
