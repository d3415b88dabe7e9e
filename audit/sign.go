package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// SignedHead is a component's signed statement "my log's record Seq has
// hash Hash". Heads are written into the log itself (EventSignedHead
// records) and handed to others — a site attaches one to every export, and
// the coordinator keeps it in its query record — so that truncating or
// rewriting a log is caught against a head its owner cannot take back.
type SignedHead struct {
	Component string    `json:"component"`
	Site      string    `json:"site,omitempty"`
	Seq       uint64    `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Sig       string    `json:"sig"` // base64 ed25519 signature over headPayload
}

// headDomain separates head signatures from anything else the key might sign.
const headDomain = "fedmesh-audit-head/v1\n"

// payload is what is signed: the domain, then the head's JSON without Sig.
func (h SignedHead) payload() ([]byte, error) {
	h.Sig = ""
	h.Time = h.Time.UTC()
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode signed head: %w", err)
	}
	return append([]byte(headDomain), b...), nil
}

// String is a compact form for reports: "site a seq 12 hash 3f2a… key 9c1e…".
func (h SignedHead) String() string {
	who := h.Component
	if h.Site != "" {
		who = "site " + h.Site
	}
	return fmt.Sprintf("%s seq %d hash %s key %s", who, h.Seq, short(h.Hash), h.KeyID)
}

// Signer signs heads with one ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// KeyID is the id of the Signer's public key.
func (s *Signer) KeyID() string { return s.id }

// Public returns the Signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign fills h's KeyID and Sig.
func (s *Signer) Sign(h SignedHead) (SignedHead, error) {
	h.KeyID, h.Time = s.id, h.Time.UTC()
	p, err := h.payload()
	if err != nil {
		return SignedHead{}, err
	}
	h.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, p))
	return h, nil
}

// Keyring holds the public keys heads are checked against, by key id.
type Keyring map[string]ed25519.PublicKey

// Errors of Keyring.Check.
var (
	ErrUnknownKey   = errors.New("signed by an unknown key")
	ErrBadSignature = errors.New("signature does not verify")
)

// Check verifies h's signature. It returns an error wrapping ErrUnknownKey
// or ErrBadSignature.
func (k Keyring) Check(h SignedHead) error {
	pub, ok := k[h.KeyID]
	if !ok {
		return fmt.Errorf("head %s: %w %q", h, ErrUnknownKey, h.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(h.Sig)
	if err != nil {
		return fmt.Errorf("head %s: %w: signature is not base64", h, ErrBadSignature)
	}
	p, err := h.payload()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, p, sig) {
		return fmt.Errorf("head %s: %w", h, ErrBadSignature)
	}
	return nil
}

// Add puts pub in the keyring and returns its id.
func (k Keyring) Add(pub ed25519.PublicKey) string {
	id := KeyID(pub)
	k[id] = pub
	return id
}

// LoadKeyring reads PEM public keys (PKIX "PUBLIC KEY" blocks, as written
// by GenerateKey) from files; a private key file is accepted too and its
// public half used.
func LoadKeyring(paths ...string) (Keyring, error) {
	k := Keyring{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read audit public key: %w", err)
		}
		n := 0
		for rest := b; ; {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			pub, err := publicFromBlock(blk)
			if err != nil {
				return nil, fmt.Errorf("audit public key %s: %w", p, err)
			}
			k.Add(pub)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("audit public key %s: no PEM block found", p)
		}
	}
	return k, nil
}

func publicFromBlock(blk *pem.Block) (ed25519.PublicKey, error) {
	switch blk.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, want ed25519", k)
		}
		return pub, nil
	case "PRIVATE KEY":
		priv, err := parsePrivate(blk)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	return nil, fmt.Errorf("PEM block %q is not a public key", blk.Type)
}

func parsePrivate(blk *pem.Block) (ed25519.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want ed25519", k)
	}
	return priv, nil
}

// LoadSigner reads a PKCS#8 PEM ed25519 private key.
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit signing key %s: no PEM \"PRIVATE KEY\" block", path)
	}
	priv, err := parsePrivate(blk)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return NewSigner(priv), nil
}

// GenerateKey writes a new ed25519 private key to privPath (mode 0600,
// refusing to overwrite) and its public key to PublicKeyPath(privPath). It
// returns the key id.
func GenerateKey(privPath string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate audit signing key: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode audit signing key: %w", err)
	}
	pb, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode audit public key: %w", err)
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return "", err
	}
	if err := writeNew(PublicKeyPath(privPath), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pb}), 0o644); err != nil {
		return "", err
	}
	return KeyID(pub), nil
}

// PublicKeyPath is where GenerateKey puts the public half of privPath:
// "x-key.pem" → "x-key.pub.pem", anything else gets ".pub" appended.
func PublicKeyPath(privPath string) string {
	if base, ok := strings.CutSuffix(privPath, ".pem"); ok {
		return base + ".pub.pem"
	}
	return privPath + ".pub"
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync key %s: %w", path, err)
	}
	return f.Close()
}
