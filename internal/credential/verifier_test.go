package credential

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// verifierFixture is one issuer's Ed25519 key plus an ES256 and an RS256
// key, all in one JWKS file, and a verifier trusting them.
type verifierFixture struct {
	ed       *Issuer
	es, rs   signer
	jwksFile string
}

func newFixture(t *testing.T) verifierFixture {
	t.Helper()
	f := verifierFixture{ed: newTestIssuer(t), es: newSigner(t, ES256), rs: newSigner(t, RS256)}
	f.jwksFile = filepath.Join(t.TempDir(), "issuer.jwks")
	if err := os.WriteFile(f.jwksFile, jwksOf(t, f.ed.key, f.es.key, f.rs.key), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f verifierFixture) verifier(t *testing.T, mod func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Issuer: testIssuer, Audience: "fedmesh", JWKSFile: f.jwksFile, Now: func() time.Time { return now }}
	if mod != nil {
		mod(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return b64(b)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stranger := newTestIssuer(t) // same issuer name, key not in the set
	valid := claimsAt(now.Add(-5*time.Minute), 15*time.Minute)
	with := func(kv ...any) map[string]any {
		c := map[string]any{}
		for k, v := range valid {
			c[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	sign := func(c map[string]any) string {
		tok, err := f.ed.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice := &Analyst{ID: "alice", Roles: []string{"analyst"}, TokenID: "j-1", Issuer: testIssuer, Expires: now.Add(10 * time.Minute)}
	pub, _ := f.ed.key.PublicKey()
	var edPub ed25519.PublicKey
	if err := jwk.Export(pub, &edPub); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		token   func() string
		cfg     func(*Config)
		want    *Analyst
		wantErr string // the whole message
	}{
		{name: "valid EdDSA", token: func() string { return sign(valid) }, want: alice},
		{name: "valid ES256", token: func() string { return f.es.sign(t, valid) }, want: alice},
		{name: "valid RS256", token: func() string { return f.rs.sign(t, valid) }, want: alice},
		{name: "minted by Mint", token: func() string {
			tok, err := f.ed.Mint("bob", []string{"analyst", "auditor"}, "fedmesh", 15*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, want: &Analyst{ID: "bob", Roles: []string{"analyst", "auditor"}, Issuer: testIssuer, Expires: now.Add(15 * time.Minute)}},
		{name: "aud as a string", token: func() string { return sign(with("aud", "fedmesh")) }, want: alice},
		{name: "no roles claim is no roles", token: func() string { return sign(with("roles", nil)) },
			want: &Analyst{ID: "alice", Roles: nil, TokenID: "j-1", Issuer: testIssuer, Expires: now.Add(10 * time.Minute)}},
		{name: "expired within leeway", token: func() string { return sign(with("exp", now.Add(-10*time.Second).Unix())) },
			want: &Analyst{ID: "alice", Roles: []string{"analyst"}, TokenID: "j-1", Issuer: testIssuer, Expires: now.Add(-10 * time.Second)}},
		{name: "expired", token: func() string { return sign(claimsAt(now.Add(-20*time.Minute), 15*time.Minute)) },
			wantErr: "analyst credential: expired at 2026-12-06T12:00:00Z (now 12:05:00Z)"},
		{name: "expired, no leeway", cfg: func(c *Config) { c.Leeway = -1 }, token: func() string { return sign(with("exp", now.Add(-10*time.Second).Unix())) },
			wantErr: "analyst credential: expired at 2026-12-06T12:04:50Z (now 12:05:00Z)"},
		{name: "not yet valid", token: func() string { return sign(with("nbf", now.Add(5*time.Minute).Unix())) },
			wantErr: "analyst credential: not valid before 2026-12-06T12:10:00Z (now 12:05:00Z)"},
		{name: "issued in the future", token: func() string { return sign(claimsAt(now.Add(2*time.Minute), 15*time.Minute)) },
			wantErr: "analyst credential: issued in the future at 2026-12-06T12:07:00Z (now 12:05:00Z); check the issuer's clock"},
		{name: "wrong issuer", token: func() string { return sign(with("iss", "https://evil.example")) },
			wantErr: `analyst credential: issuer "https://evil.example" is not the trusted issuer "https://idp.example.org/realms/fedmesh"`},
		{name: "wrong audience", token: func() string { return sign(with("aud", []string{"grafana", "vault"})) },
			wantErr: `analyst credential: audience "fedmesh" not in token's aud ["grafana" "vault"]`},
		{name: "no audience", token: func() string { return sign(with("aud", nil)) },
			wantErr: `analyst credential: audience "fedmesh" not in token's aud []`},
		{name: "unknown kid", token: func() string {
			tok, _ := stranger.Sign(valid)
			return tok
		}, wantErr: `analyst credential: signed by unknown key id "` + stranger.KeyID() + `"`},
		{name: "no kid", token: func() string {
			return b64json(map[string]string{"alg": "EdDSA"}) + "." + b64json(valid) + "." + b64(make([]byte, 64))
		}, wantErr: "analyst credential: token has no key id (kid) in its header"},
		{name: "tampered payload", token: func() string {
			parts := strings.Split(sign(valid), ".")
			return parts[0] + "." + b64json(with("sub", "root", "roles", []string{"admin"})) + "." + parts[2]
		}, wantErr: `analyst credential: signature does not verify with key id "` + f.ed.KeyID() + `"`},
		{name: "tampered signature", token: func() string {
			parts := strings.Split(sign(valid), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[0] ^= 1
			return parts[0] + "." + parts[1] + "." + b64(sig)
		}, wantErr: `analyst credential: signature does not verify with key id "` + f.ed.KeyID() + `"`},
		{name: "alg none, empty signature", token: func() string {
			return b64json(map[string]string{"alg": "none", "kid": f.ed.KeyID()}) + "." + b64json(valid) + "."
		}, wantErr: "analyst credential: token is unsigned"},
		{name: "alg none with a signature part", token: func() string {
			return b64json(map[string]string{"alg": "none", "kid": f.ed.KeyID()}) + "." + b64json(valid) + ".AAAA"
		}, wantErr: `analyst credential: token is unsigned (alg "none")`},
		{name: "HS256 with the public key as secret", token: func() string {
			in := b64json(map[string]string{"alg": "HS256", "kid": f.ed.KeyID(), "typ": "JWT"}) + "." + b64json(valid)
			mac := hmac.New(sha256.New, edPub)
			mac.Write([]byte(in))
			return in + "." + b64(mac.Sum(nil))
		}, wantErr: `analyst credential: algorithm "HS256" is not accepted (this verifier accepts [EdDSA ES256 RS256])`},
		{name: "EC key's kid under EdDSA", token: func() string {
			parts := strings.Split(sign(valid), ".")
			return b64json(map[string]string{"alg": "EdDSA", "kid": f.es.kid()}) + "." + parts[1] + "." + parts[2]
		}, wantErr: `analyst credential: key id "` + f.es.kid() + `" is a ES256 key; the token claims EdDSA`},
		{name: "algorithm not configured", cfg: func(c *Config) { c.Algorithms = []string{EdDSA} }, token: func() string { return f.rs.sign(t, valid) },
			wantErr: `analyst credential: algorithm "RS256" is not accepted (this verifier accepts [EdDSA])`},
		{name: "critical header", token: func() string {
			return b64json(map[string]any{"alg": "EdDSA", "kid": f.ed.KeyID(), "crit": []string{"exp"}}) + "." + b64json(valid) + "." + b64(make([]byte, 64))
		}, wantErr: "analyst credential: token header lists critical extensions (crit), which this verifier does not implement"},
		{name: "missing sub", token: func() string { return sign(with("sub", nil)) },
			wantErr: "analyst credential: token has no subject (sub), the analyst's id"},
		{name: "sub not a string", token: func() string { return sign(with("sub", 42)) },
			wantErr: "analyst credential: claim sub is not a string"},
		{name: "no exp", token: func() string { return sign(with("exp", nil)) },
			wantErr: "analyst credential: token has no expiry (exp); this site accepts only tokens that expire"},
		{name: "no iat", token: func() string { return sign(with("iat", nil)) },
			wantErr: "analyst credential: token has no issue time (iat); this site cannot bound its lifetime"},
		{name: "lifetime too long", token: func() string { return sign(claimsAt(now.Add(-time.Minute), 24*time.Hour)) },
			wantErr: "analyst credential: lifetime 24h exceeds the site's maximum 1h"},
		{name: "lifetime within a raised maximum", cfg: func(c *Config) { c.MaxLifetime = 24 * time.Hour },
			token: func() string { return sign(claimsAt(now.Add(-time.Minute), 24*time.Hour)) },
			want:  &Analyst{ID: "alice", Roles: []string{"analyst"}, TokenID: "j-1", Issuer: testIssuer, Expires: now.Add(24*time.Hour - time.Minute)}},
		{name: "roles from a nested claim", cfg: func(c *Config) { c.RolesClaim = "realm_access.roles" },
			token: func() string {
				return sign(with("roles", []string{"ignored"}, "realm_access", map[string]any{"roles": []string{"analyst", "auditor"}}))
			},
			want: &Analyst{ID: "alice", Roles: []string{"analyst", "auditor"}, TokenID: "j-1", Issuer: testIssuer, Expires: now.Add(10 * time.Minute)}},
		{name: "roles claim with dots in its name", cfg: func(c *Config) { c.RolesClaim = "https://fedmesh.example/roles" },
			token: func() string { return sign(with("https://fedmesh.example/roles", []string{"auditor"})) },
			want:  &Analyst{ID: "alice", Roles: []string{"auditor"}, TokenID: "j-1", Issuer: testIssuer, Expires: now.Add(10 * time.Minute)}},
		{name: "roles not a list", token: func() string { return sign(with("roles", "admin")) },
			wantErr: "analyst credential: roles claim roles is not a list of strings"},
		{name: "not a JWT", token: func() string { return "static-token" },
			wantErr: "analyst credential: not a JWT (want three base64url parts separated by dots)"},
		{name: "JSON serialization", token: func() string { return `{"payload":"e30","signatures":[]}` },
			wantErr: "analyst credential: not a JWT (want three base64url parts separated by dots)"},
		{name: "header not base64", token: func() string { return "!!.e30.AAAA" },
			wantErr: "analyst credential: token header is not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := f.verifier(t, tt.cfg)
			tok := tt.token()
			got, err := v.Verify(context.Background(), tok)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Verify accepted the token as %+v, want %q", got, tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnavailable) {
					t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("error is %T, want *Error", err)
				}
				for _, part := range strings.Split(tok, ".") {
					if len(part) > 8 && strings.Contains(err.Error(), part) {
						t.Errorf("error echoes part of the token: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tt.want.TokenID == "" {
				tt.want.TokenID = got.TokenID // random (Mint)
				if got.TokenID == "" {
					t.Error("Mint set no jti")
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("analyst (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "nothing set", cfg: Config{}, want: []string{"issuer must be set", "audience must be set", "exactly one of the JWKS file and the JWKS URL"}},
		{name: "both key sources", cfg: Config{Issuer: "i", Audience: "a", JWKSFile: f.jwksFile, JWKSURL: "https://idp.example/jwks"},
			want: []string{"exactly one of the JWKS file and the JWKS URL"}},
		{name: "HS256", cfg: Config{Issuer: "i", Audience: "a", JWKSFile: f.jwksFile, Algorithms: []string{"EdDSA", "HS256"}},
			want: []string{`algorithm "HS256" cannot sign analyst credentials`}},
		{name: "none", cfg: Config{Issuer: "i", Audience: "a", JWKSFile: f.jwksFile, Algorithms: []string{"none"}},
			want: []string{`algorithm "none" cannot sign analyst credentials`}},
		{name: "URL scheme", cfg: Config{Issuer: "i", Audience: "a", JWKSURL: "file:///etc/jwks"},
			want: []string{`JWKS URL "file:///etc/jwks" is not an http(s) URL`}},
		{name: "missing file", cfg: Config{Issuer: "i", Audience: "a", JWKSFile: filepath.Join(t.TempDir(), "none.jwks")},
			want: []string{"jwks file:", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestKeySetRefusesUnusableKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		jwks string
		want string
	}{
		{name: "not JSON", jwks: "{", want: "not a JWKS document"},
		{name: "only a symmetric key", jwks: `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`, want: `key "s": kty "oct" cannot verify analyst credentials`},
		{name: "no kid", jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, want: "key 0 has no kid"},
		{name: "encryption key", jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, want: `key "e": use "enc" is not sig`},
		{name: "alg mismatch", jwks: `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"ES256","kid":"m","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, want: `key "m": declares alg "ES256"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := parseKeySet([]byte(tt.jwks))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseKeySet: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
