// Package ticketpb holds the generated protobuf types of the Flight ticket
// (ticket.proto). Package flight converts them to and from planner.SubPlan;
// nothing else should use them directly.
package ticketpb

// Regenerate after editing ticket.proto (needs protoc and
// `go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12`):
//go:generate protoc --go_out=. --go_opt=paths=source_relative ticket.proto
