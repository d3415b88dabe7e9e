package agent

import (
	"encoding/json"
	"errors"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/internal/logkey"
)

// signedHead is the JSON of a signed head over the export record (seq,
// hash), for the result's metadata; "" when the site has no signing key.
// A signing failure does not block the export — the record is durable,
// which is what the export depends on — but is logged.
func (h *handler) signedHead(seq uint64, hash string) string {
	head, err := h.audit.Sign(seq, hash)
	if errors.Is(err, audit.ErrNoSigner) {
		return ""
	}
	if err == nil {
		var b []byte
		if b, err = json.Marshal(head); err == nil {
			return string(b)
		}
	}
	h.log.Error("sign audit head for export", logkey.Seq, seq, logkey.Err, err)
	return ""
}
