// The Flink adapter's client of the SQL Gateway REST API and its errors.

package enginebridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// flinkClient is a minimal client of the SQL Gateway REST API.
type flinkClient struct {
	base string
	hc   *http.Client
}

type flinkColumnInfo struct {
	Name        string           `json:"name"`
	LogicalType flinkLogicalType `json:"logicalType"`
}

type flinkRow struct {
	Kind   string `json:"kind"`
	Fields []any  `json:"fields"`
}

type flinkResultPage struct {
	ResultType    string `json:"resultType"`
	IsQueryResult bool   `json:"isQueryResult"`
	JobID         string `json:"jobID"`
	Results       struct {
		Columns []flinkColumnInfo `json:"columns"`
		Data    []flinkRow        `json:"data"`
	} `json:"results"`
	NextResultURI string `json:"nextResultUri"`
}

func (c *flinkClient) openSession(ctx context.Context, props map[string]string) (string, error) {
	var resp struct {
		SessionHandle string `json:"sessionHandle"`
	}
	body := map[string]any{"sessionName": "fedmesh", "properties": props}
	if err := c.do(ctx, http.MethodPost, "/v2/sessions", body, &resp); err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	if resp.SessionHandle == "" {
		return "", errors.New("open session: gateway returned no session handle")
	}
	return resp.SessionHandle, nil
}

func (c *flinkClient) closeSession(ctx context.Context, session string) error {
	if err := c.do(ctx, http.MethodDelete, "/v2/sessions/"+url.PathEscape(session), nil, nil); err != nil {
		return fmt.Errorf("close session: %w", err)
	}
	return nil
}

func (c *flinkClient) submit(ctx context.Context, session, stmt string, execConfig map[string]string) (string, error) {
	var resp struct {
		OperationHandle string `json:"operationHandle"`
	}
	body := map[string]any{"statement": stmt, "executionConfig": execConfig}
	if err := c.do(ctx, http.MethodPost, "/v2/sessions/"+url.PathEscape(session)+"/statements", body, &resp); err != nil {
		return "", fmt.Errorf("submit statement: %w", err)
	}
	if resp.OperationHandle == "" {
		return "", errors.New("submit statement: gateway returned no operation handle")
	}
	return resp.OperationHandle, nil
}

func (c *flinkClient) opPath(session, op string) string {
	return "/v2/sessions/" + url.PathEscape(session) + "/operations/" + url.PathEscape(op)
}

func (c *flinkClient) resultPath(session, op string, token int) string {
	return fmt.Sprintf("%s/result/%d?rowFormat=JSON", c.opPath(session, op), token)
}

// do sends one request; path is absolute on the gateway ("/v2/..."). A
// non-2xx answer becomes a *FlinkGatewayError.
func (c *flinkClient) do(ctx context.Context, method, path string, in, out any) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("gateway sent a result URI %q that is not a path", path)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, redactPath(path), err)
	}
	if resp.StatusCode/100 != 2 {
		return newFlinkGatewayError(method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, redactPath(path), err)
	}
	return nil
}

// redactPath drops the query string from a path for messages.
func redactPath(p string) string {
	path, _, _ := strings.Cut(p, "?")
	return path
}

// FlinkGatewayError is an error answer of the SQL Gateway. Message is the
// root cause of the Java exception the gateway reports (its last "Caused
// by:"), not the whole stack trace.
type FlinkGatewayError struct {
	Method  string
	Path    string
	Status  int
	Message string
}

func (e *FlinkGatewayError) Error() string {
	return fmt.Sprintf("flink sql gateway: %s (HTTP %d from %s %s)", e.Message, e.Status, e.Method, e.Path)
}

func newFlinkGatewayError(method, path string, status int, body []byte) *FlinkGatewayError {
	e := &FlinkGatewayError{Method: method, Path: redactPath(path), Status: status}
	var parsed struct {
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(body, &parsed); err == nil && len(parsed.Errors) > 0 {
		e.Message = flinkRootCause(parsed.Errors)
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 300 {
			e.Message = e.Message[:300] + "…"
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// flinkRootCause picks the innermost exception message out of the
// gateway's error strings (a short summary such as "Internal server
// error." followed by Java stack traces).
func flinkRootCause(errs []string) string {
	var best string
	for _, s := range errs {
		s = strings.TrimPrefix(strings.TrimSpace(s), "<Exception on server side:\n")
		lines := strings.Split(s, "\n")
		for i := 0; i < len(lines); i++ {
			line := strings.TrimSpace(lines[i])
			msg, isCause := strings.CutPrefix(line, "Caused by: ")
			if !isCause && !(i == 0 && strings.Contains(line, "Exception")) {
				continue
			}
			// A message may span lines, up to the first stack frame.
			for j := i + 1; j < len(lines) && j < i+8; j++ {
				next := strings.TrimSpace(lines[j])
				if strings.HasPrefix(next, "at ") || strings.HasPrefix(next, "Caused by: ") || strings.HasPrefix(next, "...") || next == "" {
					break
				}
				msg += " " + next
			}
			best = shortenJavaClass(msg)
		}
	}
	if best == "" {
		for _, s := range errs {
			if s = strings.TrimSpace(s); s != "" {
				best = strings.SplitN(s, "\n", 2)[0]
			}
		}
	}
	if len(best) > 1000 {
		best = best[:1000] + "…"
	}
	return best
}

// shortenJavaClass turns "org.apache.flink.table.api.ValidationException:
// msg" into "ValidationException: msg".
func shortenJavaClass(msg string) string {
	cls, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		cls, rest = msg, ""
	}
	if strings.ContainsAny(cls, " ") {
		return msg
	}
	if i := strings.LastIndexByte(cls, '.'); i >= 0 {
		cls = cls[i+1:]
	}
	if rest == "" {
		return cls
	}
	return cls + ": " + rest
}
