package fedctl

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// stdin is where a "-" SQL argument is read from (a test replaces it).
var stdin io.Reader = os.Stdin

// maxStdinSQL bounds SQL read from stdin, as the coordinator bounds a
// request body.
const maxStdinSQL = 1 << 20

// sqlArg returns the SQL argument, read from stdin when it is "-".
func sqlArg(arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, maxStdinSQL+1))
	if err != nil {
		return "", fmt.Errorf("read SQL from stdin: %w", err)
	}
	if len(b) > maxStdinSQL {
		return "", fmt.Errorf("%w: SQL on stdin is longer than %d bytes", errUsage, maxStdinSQL)
	}
	sql := strings.TrimSpace(string(b))
	if sql == "" {
		return "", fmt.Errorf("%w: SQL argument is - but stdin is empty", errUsage)
	}
	return sql, nil
}
