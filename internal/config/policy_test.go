package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgentPolicySources(t *testing.T) {
	t.Parallel()
	base := strings.Replace(goodAgent, "policy: {bundle: builtin:default}\n", "", 1)
	tests := []struct {
		name    string
		policy  string
		wantErr []string // dotted paths in the error; none: valid
		check   func(t *testing.T, c *Agent, dir string)
	}{
		{
			name:   "signed tarball with reload",
			policy: "policy:\n  bundle: bundles/site-a.tar.gz\n  poll_interval: 5s\n  signing: {keys: [{id: default, public_key: keys/officer.pem}]}\n",
			check: func(t *testing.T, c *Agent, dir string) {
				if got, want := c.Policy.Bundle, filepath.Join(dir, "bundles/site-a.tar.gz"); got != want {
					t.Errorf("bundle = %q, want %q", got, want)
				}
				if got, want := c.Policy.Signing.Keys[0].PublicKey, filepath.Join(dir, "keys/officer.pem"); got != want {
					t.Errorf("public_key = %q, want %q", got, want)
				}
				if !c.Policy.Signing.SignatureRequired() {
					t.Error("signing without required: want required by default")
				}
				if time.Duration(c.Policy.PollInterval) != 5*time.Second {
					t.Errorf("poll_interval = %v", c.Policy.PollInterval)
				}
			},
		},
		{
			name:   "bundle server URL gets a default poll interval",
			policy: "policy:\n  url: http://127.0.0.1:8181/bundles/a.tar.gz\n  signing: {keys: [{id: default, public_key: k.pem}], required: false}\n",
			check: func(t *testing.T, c *Agent, _ string) {
				if time.Duration(c.Policy.PollInterval) != DefaultPolicyURLPoll {
					t.Errorf("poll_interval = %v, want the default", c.Policy.PollInterval)
				}
				if c.Policy.Signing.SignatureRequired() {
					t.Error("required: false was ignored")
				}
			},
		},
		{name: "no source", policy: "policy: {}\n", wantErr: []string{"policy.bundle: must be set"}},
		{name: "both sources", policy: "policy: {bundle: b, url: 'http://x/b.tar.gz'}\n", wantErr: []string{"policy.url: set either"}},
		{name: "bad url", policy: "policy: {url: 'ftp://x/b'}\n", wantErr: []string{"policy.url:"}},
		{
			name:    "bad signing block",
			policy:  "policy:\n  bundle: builtin:default\n  signing: {keys: [{id: '', algorithm: XX}]}\n",
			wantErr: []string{"policy.signing:", "policy.signing.keys[0].id", "policy.signing.keys[0].algorithm", "policy.signing.keys[0].public_key"},
		},
		{name: "signing without keys", policy: "policy:\n  bundle: b\n  signing: {keys: []}\n", wantErr: []string{"policy.signing.keys: must be set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, base+tt.policy)
			c, err := LoadAgent(p)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("LoadAgent: %v", err)
				}
				tt.check(t, c, filepath.Dir(p))
				return
			}
			if err == nil {
				t.Fatalf("LoadAgent succeeded, want errors %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
