package audit

import (
	"errors"
	"fmt"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// Default signing cadence when Options.Signer is set.
const (
	defaultSignEvery = 1000
)

// ErrNoSigner is returned by Sign when the Log has no Signer.
var ErrNoSigner = errors.New("audit log has no signing key")

// Sign returns a signed head stating that this log's record seq has hash
// hash — typically the seq and hash Append just returned for an export
// record, so that whoever receives the export can later hold the site to
// it. It does not write anything. Errors: ErrNoSigner, or a signing error.
func (l *Log) Sign(seq uint64, hash string) (SignedHead, error) {
	if l.signer == nil {
		return SignedHead{}, ErrNoSigner
	}
	h, err := l.signer.Sign(SignedHead{Component: l.componentOrDefault(), Site: l.site, Seq: seq, Hash: hash, Time: l.now()})
	if err != nil {
		return SignedHead{}, fmt.Errorf("sign audit head of %s: %w", l.path, err)
	}
	return h, nil
}

// LastSignedHead returns the newest head written into the log, or nil.
func (l *Log) LastSignedHead() *SignedHead {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastHead
}

// Signer returns the Log's Signer, or nil.
func (l *Log) Signer() *Signer { return l.signer }

func (l *Log) componentOrDefault() string {
	if l.component == "" {
		return "audit"
	}
	return l.component
}

// maybeHead appends a signed head record over (seq, head) to buf when one is
// due. It runs in the writer goroutine. On a signing or encoding error it
// logs and writes no head: a missing head weakens evidence later, while
// failing the append would stop every export over a key problem that
// Open already checked.
func (l *Log) maybeHead(buf []byte, seq uint64, head string, force bool) ([]byte, uint64, string, *SignedHead) {
	if l.signer == nil {
		return buf, seq, head, nil
	}
	l.unsigned += int(seq - l.seq)
	if l.unsigned == 0 {
		return buf, seq, head, nil
	}
	now := l.now().UTC()
	due := force || l.unsigned >= l.signEvery || l.signEach > 0 && now.Sub(l.lastSigned) >= l.signEach
	if !due {
		return buf, seq, head, nil
	}
	sh, err := l.signer.Sign(SignedHead{Component: l.componentOrDefault(), Site: l.site, Seq: seq, Hash: head, Time: now})
	if err != nil {
		l.logger.Error("sign audit head", logkey.Err, err, logkey.Seq, seq)
		return buf, seq, head, nil
	}
	body, err := encodeBody(Record{Component: l.componentOrDefault(), Site: l.site, Event: EventSignedHead, Head: &sh})
	if err != nil {
		l.logger.Error("encode signed head record", logkey.Err, err, logkey.Seq, seq)
		return buf, seq, head, nil
	}
	out, h, err := appendLine(buf, seq+1, now, head, body)
	if err != nil {
		l.logger.Error("encode signed head record", logkey.Err, err, logkey.Seq, seq)
		return buf, seq, head, nil
	}
	l.unsigned, l.lastSigned = 0, now
	return out, seq + 1, h, &sh
}
