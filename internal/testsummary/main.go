package main

import (
	"fmt"
	"os"
)

func main() {
	s := newSummary(os.Stdout)
	if err := s.Read(os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: read go test -json from stdin: %v\n", err)
		os.Exit(2)
	}
	if !s.Finish() {
		os.Exit(1)
	}
}
