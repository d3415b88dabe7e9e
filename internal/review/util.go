package review

import (
	"strconv"
	"strings"
)

func shortHash(h string) string {
	if len(h) <= 12 {
		return h
	}
	return h[:12] + "…"
}

func joinStrings(ss []string, sep string) string { return strings.Join(ss, sep) }

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
