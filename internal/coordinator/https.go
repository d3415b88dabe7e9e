package coordinator

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/fedmesh/fedmesh/internal/config"
)

// httpTLS builds the HTTP API's server TLS config from the config file's
// tls block (nil: plain HTTP, which config validation allows only on
// loopback or with insecure_http).
func httpTLS(t *config.HTTPTLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: load the HTTP API's certificate %s and key %s: %w", t.Cert, t.Key, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// apiListener wraps lis in TLS when the API serves HTTPS.
func (c *Coordinator) apiListener(lis net.Listener) net.Listener {
	if c.cfg.HTTPTLS == nil {
		return lis
	}
	return tls.NewListener(lis, c.cfg.HTTPTLS)
}
