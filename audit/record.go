package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// SchemaVersion is written in every record's "v" field. Bump it when the
// meaning of a field changes; adding an optional field does not need a bump.
const SchemaVersion = 1

// Events.
const (
	EventQuery      = "query"       // coordinator: an analyst query was answered or failed
	EventDecision   = "decision"    // site agent: policy decided on a sub-plan
	EventExport     = "export"      // site agent: results are about to leave the site
	EventPeerDenied = "peer_denied" // a caller's SPIFFE ID was not on the allow-list
	EventRecovery   = "recovery"    // written by Open after cutting a torn final line
	EventSignedHead = "signed_head" // written by the Log: a signed head over the record before it
	EventCatalog    = "catalog"     // coordinator: a site's catalog as first reported or changed
)

// Components.
const (
	ComponentCoordinator = "coordinator"
	ComponentSiteAgent   = "site-agent"
)

// Decision is what a record says was decided.
type Decision string

// Decisions.
const (
	DecisionAllow Decision = "allow"
	DecisionDeny  Decision = "deny"
	DecisionError Decision = "error"
	// DecisionExplain marks a coordinator's policy dry run: the sites were
	// asked for their decisions and nothing ran.
	DecisionExplain Decision = "explain"
)

// Status is one site's part in a coordinator's query (SiteOutcome.Status).
type Status string

// Site statuses.
const (
	StatusOK      Status = "ok"       // the site answered
	StatusDenied  Status = "denied"   // the site's policy refused the sub-plan
	StatusFailed  Status = "failed"   // the site could not be asked or failed to answer
	StatusNoTable Status = "no_table" // the site does not hold the query's table and was not asked
	StatusAllowed Status = "allowed"  // a dry run: the site's policy would allow the sub-plan
)

// Record is one audit event. V, Seq, Time and Prev are filled in by
// [Log.Append]; whatever the caller puts there is overwritten. The hash of a
// record is not a field: it is appended to the stored line (see package doc).
//
// V, Seq, Time and Prev must stay the first four fields, in this order: the
// writer splices them in front of the caller's fields (see encodeBody).
type Record struct {
	V                int            `json:"v"`
	Seq              uint64         `json:"seq"`
	Time             time.Time      `json:"time"`
	Prev             string         `json:"prev"`      // hex SHA-256 of the previous record ("" for the first)
	Component        string         `json:"component"` // ComponentCoordinator or ComponentSiteAgent
	Site             string         `json:"site,omitempty"`
	Event            string         `json:"event"` // one of the Event constants
	QueryID          string         `json:"query_id,omitempty"`
	Analyst          string         `json:"analyst,omitempty"`
	Roles            []string       `json:"roles,omitempty"`
	Purpose          string         `json:"purpose,omitempty"`
	SQL              string         `json:"sql,omitempty"`
	Peer             string         `json:"peer,omitempty"` // SPIFFE ID of the caller
	Decision         Decision       `json:"decision,omitempty"`
	Reasons          []string       `json:"reasons,omitempty"`
	BundleRevision   string         `json:"bundle_revision,omitempty"`
	DecisionID       string         `json:"decision_id,omitempty"`
	Rows             int64          `json:"rows,omitempty"`
	SuppressedGroups int64          `json:"suppressed_groups,omitempty"`
	Sites            []SiteOutcome  `json:"sites,omitempty"` // coordinator: per-site outcome
	Error            string         `json:"error,omitempty"`
	DurationMS       float64        `json:"duration_ms,omitempty"`
	Details          map[string]any `json:"details,omitempty"`
	Head             *SignedHead    `json:"head,omitempty"` // EventSignedHead only
}

// SiteOutcome is the coordinator's view of one site's part in a query.
type SiteOutcome struct {
	Site             string   `json:"site"`
	Status           Status   `json:"status"`
	Reasons          []string `json:"reasons,omitempty"`
	Rows             int64    `json:"rows,omitempty"`
	SuppressedGroups int64    `json:"suppressed_groups,omitempty"`
	Error            string   `json:"error,omitempty"`
	BundleRevision   string   `json:"bundle_revision,omitempty"`
	// Head is the site's signed audit head it sent with its result: its
	// log's record Head.Seq (the export record) has hash Head.Hash.
	Head *SignedHead `json:"head,omitempty"`
}

const (
	// zeroHeader is what encoding/json writes for a Record whose first four
	// fields are zero.
	zeroHeader = `{"v":0,"seq":0,"time":"0001-01-01T00:00:00Z","prev":"",`
	hashKey    = `,"hash":"`
	hashHexLen = 2 * sha256.Size
	// hashSuffixLen is the length of `,"hash":"<hex>"}`.
	hashSuffixLen = len(hashKey) + hashHexLen + len(`"}`)
)

// encodeBody marshals the caller's part of r: everything after the four
// header fields, ending in '}'. It runs in Append, before the record is
// queued, so marshalling errors go to the caller without touching the log and
// the writer never reads the caller's slices or maps.
func encodeBody(r Record) ([]byte, error) {
	r.V, r.Seq, r.Time, r.Prev = 0, 0, time.Time{}, ""
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode audit record (event %q): %w", r.Event, err)
	}
	if !bytes.HasPrefix(b, []byte(zeroHeader)) {
		return nil, fmt.Errorf("encode audit record (event %q): unexpected header %.60q", r.Event, b)
	}
	return b[len(zeroHeader):], nil
}

// appendLine appends the stored line for a record — header, body, hash
// suffix, newline — to dst. The bytes hashed are exactly what json.Marshal
// gives for the full record; record_test.go holds that in place.
func appendLine(dst []byte, seq uint64, t time.Time, prev string, body []byte) ([]byte, string, error) {
	tj, err := t.MarshalJSON()
	if err != nil {
		return dst, "", fmt.Errorf("encode audit record time %v: %w", t, err)
	}
	start := len(dst)
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, SchemaVersion, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"time":`...)
	dst = append(dst, tj...)
	dst = append(dst, `,"prev":"`...)
	dst = append(dst, prev...)
	dst = append(dst, `",`...)
	dst = append(dst, body...)

	sum := sha256.Sum256(dst[start:])
	h := hex.EncodeToString(sum[:])
	dst = dst[:len(dst)-1] // drop the closing '}'
	dst = append(dst, hashKey...)
	dst = append(dst, h...)
	dst = append(dst, "\"}\n"...)
	return dst, h, nil
}

// splitLine undoes appendLine for one line (without its newline): it returns
// the record bytes B and the hash stored on the line. ok is false when the
// line does not end in a well-formed hash suffix.
func splitLine(line []byte) (rec []byte, stored string, ok bool) {
	n := len(line) - hashSuffixLen
	if n < 1 {
		return nil, "", false
	}
	suffix := line[n:]
	if !bytes.HasPrefix(suffix, []byte(hashKey)) || !bytes.HasSuffix(suffix, []byte(`"}`)) {
		return nil, "", false
	}
	h := suffix[len(hashKey) : len(hashKey)+hashHexLen]
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, "", false
		}
	}
	rec = make([]byte, n+1)
	copy(rec, line[:n])
	rec[n] = '}'
	return rec, string(h), true
}
