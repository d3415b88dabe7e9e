// Package credential verifies the analyst's signed credential — a JWT from
// the organisation's identity provider — so that every component that needs
// to know who the analyst is (the coordinator for its API, each site for its
// policy and its privacy budget) can check it itself instead of trusting
// whoever forwarded it (ARCHITECTURE.md, invariant 7).
//
// It owns: the Verifier (signature against the issuer's published keys,
// exact issuer, audience, expiry, not-before, a bounded lifetime, the
// analyst's id and roles from configurable claims), the key sources (a JWKS
// file re-read when it changes, or a JWKS URL cached and refetched for an
// unknown key id, so keys rotate without a restart), and the Issuer, a
// development signer that mints credentials for demos and tests.
//
// It must not:
//   - accept an unsigned token (alg "none"), an HMAC token (HS*: a public
//     key must never double as a shared secret), or any algorithm outside
//     the configured list; the algorithm is checked against the key, never
//     taken from the token alone;
//   - accept a token without exp and iat, or one that lives longer than the
//     configured maximum;
//   - log, store or echo a token, in errors or otherwise: errors say what was
//     wrong (expired, unknown key id, wrong audience), not what was sent;
//   - decide what an analyst may do: it says who the analyst is and which
//     roles the issuer gave them; policy decides the rest.
package credential
