package fedctl

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/config"
	"github.com/fedmesh/fedmesh/internal/coordinator"
	"github.com/fedmesh/fedmesh/internal/review"
)

// demoAuditKeys makes an audit signing key per process under
// dir/audit-keys (keeping keys that exist) and returns the public key
// paths relative to dir, for the coordinator's review page.
func demoAuditKeys(dir string, sites []string) ([]string, error) {
	kd := filepath.Join(dir, "audit-keys")
	if err := os.MkdirAll(kd, 0o700); err != nil {
		return nil, err
	}
	names := []string{"coordinator"}
	for _, s := range sites {
		names = append(names, "site-"+s)
	}
	var pubs []string
	for _, n := range names {
		priv := filepath.Join(kd, n+".pem")
		if _, err := os.Stat(priv); errors.Is(err, fs.ErrNotExist) {
			if _, err := audit.GenerateKey(priv); err != nil {
				return nil, fmt.Errorf("audit key for %s: %w", n, err)
			}
		}
		pubs = append(pubs, rel(dir, audit.PublicKeyPath(priv)))
	}
	return pubs, nil
}

// demoAuditor adds an auditor ("audrey", role auditor) to coord and writes
// its token to dir/auditor.token.
func demoAuditor(dir string, coord *config.Coordinator) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	sum := coordinator.TokenHash(token)
	coord.Analysts = append(coord.Analysts, config.Analyst{ID: "audrey", Roles: []string{review.RoleAuditor}, TokenSHA256: hex.EncodeToString(sum[:])})
	if err := os.WriteFile(filepath.Join(dir, "auditor.token"), []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	return token, nil
}
