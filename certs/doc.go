// Package certs owns fedmesh workload identity: a development certificate
// authority for a SPIFFE trust domain, sources of X.509-SVIDs and trust
// bundles, and the mutual-TLS configurations built from them.
//
// Sources (all implement Source; those that must be kept fresh also
// implement Runner, which the agent and coordinator run for their lifetime
// through Keep):
//
//   - FileSource: PEM files (the dev CA's output, cert-manager, a SPIRE
//     helper). Polled; a complete, consistent new set is swapped in
//     atomically, a bad or half-written one keeps the current SVID. Other
//     trust domains' bundles can be added (SPIFFE federation).
//   - SPIRESource: the SPIRE agent's Workload API; SPIRE pushes rotated
//     SVIDs and bundles, federated ones included.
//   - VaultSource: Vault's PKI secrets engine issues the SVID (URI SAN =
//     the component's SPIFFE ID), renewed at two thirds of its lifetime;
//     the PKI's CA is the bundle.
//
// Every fedmesh connection is mTLS in which both ends present an X.509-SVID
// and each end checks the peer's SPIFFE ID against an explicit allow-list
// (ServerTLSAllow, ClientTLS): exact IDs or trust-domain path prefixes. An
// empty allow-list authorizes nobody. The TLS configs ask the Source on
// every handshake, so rotation reaches every new connection without a
// restart; servers bound connection age so that long-lived clients
// reconnect too. Refused handshakes surface as *RejectError, and
// GuardServer reports them (with the peer's claimed ID and a reason) to a
// callback that can log and audit them.
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
// it logs only through a logger it is given (reloads, renewals, refused
// reloads). It must not decide policy: it says who the peer is, callers
// decide what that peer may do.
package certs
