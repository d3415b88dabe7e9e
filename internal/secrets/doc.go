// Package secrets resolves secret references in configuration — today
// Vault KV references of the form "vault:secret/data/site-a/pg#password" —
// so engine passwords and DSNs need not sit in config files.
//
// It owns Vault authentication (token or AppRole), renewal of the token's
// lease for a caller that keeps the client (Vault.Run; the site agent
// reads its secrets once at start and does not), and errors that name the
// path and field that could not be read. It must never log or return a secret's value in
// an error.
package secrets
