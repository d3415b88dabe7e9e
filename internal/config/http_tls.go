package config

import (
	"net"
)

// HTTPTLS is the coordinator HTTP API's server certificate (PEM files).
type HTTPTLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// validateHTTPAPI checks the HTTP API's transport: with tls both files are
// needed; without, plain HTTP is allowed only on a loopback listen address
// or with insecure_http, since analysts' bearer tokens cross it.
func (c *Coordinator) validateHTTPAPI(file string, p *problems) {
	if c.TLS != nil {
		if c.TLS.Cert == "" {
			p.add("tls.cert", "%v (the HTTP API's server certificate, PEM)", errEmpty)
		}
		if c.TLS.Key == "" {
			p.add("tls.key", "%v (the server certificate's private key, PEM)", errEmpty)
		}
		c.TLS.Cert, c.TLS.Key = resolve(file, c.TLS.Cert), resolve(file, c.TLS.Key)
		if c.InsecureHTTP {
			p.add("insecure_http", "cannot be set with tls (choose one)")
		}
		return
	}
	if c.InsecureHTTP || c.Listen == "" {
		return
	}
	if !loopback(c.Listen) {
		p.add("listen", "%q is not a loopback address, so analysts' tokens would cross the network in clear: set tls.cert and tls.key, or insecure_http: true (e.g. behind a TLS-terminating proxy)", c.Listen)
	}
}

// loopback reports whether addr (host:port) listens only on loopback.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true // reported by checkAddr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
