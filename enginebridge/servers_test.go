package enginebridge

import (
	"testing"

	"github.com/fedmesh/fedmesh/internal/testenv"
)

// serverEnv returns a test server's setting (see testenv.Server).
func serverEnv(t testing.TB, file, key string) string {
	t.Helper()
	return testenv.Server(t, file, key)
}
