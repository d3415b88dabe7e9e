// Package certs owns fedmesh workload identity: a development certificate
// authority for a SPIFFE trust domain, sources of X.509-SVIDs and trust
// bundles (files today; the SPIRE Workload API and Vault PKI later), and the
// mutual-TLS configurations built from them.
//
// Every fedmesh connection is mTLS in which both ends present an X.509-SVID
// and each end checks the peer's SPIFFE ID against an explicit allow-list
// (ServerTLS, ClientTLS). An empty allow-list authorizes nobody.
//
// Layout written by InitDevCA (keys are 0600):
//
//	bundle.pem                           CA certificate = trust bundle
//	ca-key.pem                           CA private key
//	coordinator.pem, coordinator-key.pem spiffe://<td>/coordinator
//	site-<name>.pem, site-<name>-key.pem spiffe://<td>/site/<name>
//
// The dev CA is for development and tests only: its key sits unencrypted on
// disk.
//
// This package must not log, print or put private key material into errors;
// it does not log at all. It must not decide policy: it says who the peer is,
// callers decide what that peer may do.
package certs
