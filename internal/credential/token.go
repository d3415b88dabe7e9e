package credential

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// maxTokenBytes bounds a credential; real ones are a few hundred bytes to
// a few kilobytes.
const maxTokenBytes = 16 << 10

// token is a compact JWS split apart, before any check of its signature.
type token struct {
	header struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
}

// splitToken reads the protected header of raw. Only the compact form
// (header.payload.signature) is accepted: the JSON forms can carry several
// signatures and unprotected headers, neither of which a credential needs.
func splitToken(raw string) (*token, error) {
	if len(raw) > maxTokenBytes {
		return nil, invalid(fmt.Sprintf("token is %d bytes; at most %d are accepted", len(raw), maxTokenBytes))
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, invalid("not a JWT (want three base64url parts separated by dots)")
	}
	if parts[2] == "" {
		return nil, invalid("token is unsigned")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, invalid("token header is not base64url")
	}
	var t token
	dec := json.NewDecoder(bytes.NewReader(hb))
	if err := dec.Decode(&t.header); err != nil {
		return nil, invalid("token header is not a JSON object")
	}
	switch {
	case t.header.Alg == "":
		return nil, invalid("token header has no alg")
	case strings.EqualFold(t.header.Alg, "none"):
		return nil, invalid(`token is unsigned (alg "none")`)
	case len(t.header.Crit) > 0:
		return nil, invalid("token header lists critical extensions (crit), which this verifier does not implement")
	}
	return &t, nil
}

// verifySignature checks raw's signature with k under k's one algorithm
// and returns the payload.
func verifySignature(raw string, k verificationKey) ([]byte, error) {
	alg, ok := jwa.LookupSignatureAlgorithm(k.alg)
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q", k.alg)
	}
	return jws.Verify([]byte(raw), jws.WithKey(alg, k.pub))
}

// claims are the payload's claims, numbers kept as json.Number.
type claims map[string]any

func decodeClaims(payload []byte) (claims, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var c claims
	if err := dec.Decode(&c); err != nil || c == nil {
		return nil, invalid("token payload is not a JSON object")
	}
	return c, nil
}

func (c claims) str(name string) (string, error) {
	v, ok := c[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid(fmt.Sprintf("claim %s is not a string", name))
	}
	return s, nil
}

// date reads a NumericDate claim (seconds since the epoch, possibly
// fractional); ok is false when the claim is absent.
func (c claims) date(name string) (t time.Time, ok bool, err error) {
	v, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return time.Time{}, false, invalid(fmt.Sprintf("claim %s is not a number of seconds", name))
	}
	f, ferr := n.Float64()
	if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, false, invalid(fmt.Sprintf("claim %s is not a usable time", name))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// audience reads aud, a string or a list of strings.
func (c claims) audience() ([]string, error) {
	switch a := c["aud"].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, invalid("claim aud is not a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, invalid("claim aud is neither a string nor a list of strings")
}

// roles reads the roles claim at path: a top-level claim of that exact
// name, else the dotted path through nested objects. An absent claim is no
// roles.
func (c claims) roles(path string) ([]string, error) {
	v, ok := c[path]
	if !ok {
		var cur any = map[string]any(c)
		for _, seg := range strings.Split(path, ".") {
			obj, isObj := cur.(map[string]any)
			if !isObj {
				return nil, nil
			}
			if cur, ok = obj[seg]; !ok {
				return nil, nil
			}
		}
		v = cur
	}
	list, isList := v.([]any)
	if !isList {
		return nil, invalid(fmt.Sprintf("roles claim %s is not a list of strings", path))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, isStr := e.(string)
		if !isStr {
			return nil, invalid(fmt.Sprintf("roles claim %s is not a list of strings", path))
		}
		out = append(out, s)
	}
	return out, nil
}
