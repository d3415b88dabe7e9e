package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAgentAdmissionLimits(t *testing.T) {
	t.Parallel()
	c, err := LoadAgent(writeFile(t, goodAgent+"limits: {max_concurrent: 2, queue_timeout: 3s, max_queue: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.QueueTimeout != Duration(3*time.Second) || c.Limits.MaxQueue != 10 {
		t.Errorf("limits = %+v", c.Limits)
	}
	_, err = LoadAgent(writeFile(t, goodAgent+"limits: {queue_timeout: -1s, max_queue: -1}\n"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	if d := cmp.Diff([]string{"limits.queue_timeout", "limits.max_queue"}, problemPaths(ve)); d != "" {
		t.Errorf("problem paths (-want +got):\n%s", d)
	}
}

func TestCoordinatorQuotasAndPartialAnswers(t *testing.T) {
	t.Parallel()
	base := `
listen: 127.0.0.1:8080
identity: {cert: c.pem, key: k.pem, bundle: b.pem}
sites: [{name: a, address: 127.0.0.1:7001, spiffe_id: spiffe://example.org/site/a}]
analysts: [{id: alice, roles: [analyst], token_sha256: ` + strings.Repeat("ab", 32) + `}]
audit: {path: a.log}
`
	c, err := LoadCoordinator(writeFile(t, base+`
quotas: {max_concurrent_per_analyst: 2, max_queries_per_minute: 30}
partial_answers: {roles: [ops], purposes: [dashboard]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Quotas != (Quotas{MaxConcurrentPerAnalyst: 2, MaxQueriesPerMinute: 30}) || !cmp.Equal(c.PartialAnswers.Roles, []string{"ops"}) {
		t.Errorf("quotas %+v, partial answers %+v", c.Quotas, c.PartialAnswers)
	}
	_, err = LoadCoordinator(writeFile(t, base+`
quotas: {max_concurrent_per_analyst: -1, max_queries_per_minute: -2}
partial_answers: {purposes: [dashboard]}
`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	want := []string{"quotas.max_concurrent_per_analyst", "quotas.max_queries_per_minute", "partial_answers.roles"}
	if d := cmp.Diff(want, problemPaths(ve)); d != "" {
		t.Errorf("problem paths (-want +got):\n%s", d)
	}
}

func problemPaths(ve *ValidationError) []string {
	var paths []string
	for _, pr := range ve.Problems {
		paths = append(paths, pr[:strings.Index(pr, ":")])
	}
	return paths
}
