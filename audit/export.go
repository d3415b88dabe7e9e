package audit

import (
	"encoding/json"
	"io"
)

// ExportSchemaV1 names the SIEM export format documented in SCHEMA.md.
const ExportSchemaV1 = "fedmesh.audit.export/v1"

// ExportV1 is one line of the SIEM export: the record's fields unchanged,
// plus where it was read and its hash, under a schema name a collector can
// route on.
type ExportV1 struct {
	Schema string `json:"schema"`
	Record
	Hash   string       `json:"hash"`
	Source ExportSource `json:"source"`
}

// ExportSource says where an exported record was read.
type ExportSource struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// WriteExportV1 writes recs as JSON lines in the v1 export schema.
func WriteExportV1(w io.Writer, recs []Located) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(ExportV1{Schema: ExportSchemaV1, Record: r.Record, Hash: r.Hash, Source: ExportSource{File: r.File, Line: r.Line}}); err != nil {
			return err
		}
	}
	return nil
}
