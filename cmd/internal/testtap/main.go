// Command testtap is internal/testsource as a binary, for tests that need a
// real process: signals, exit codes, whole lines on a pipe. It is not built
// by make build and has no image.
package main

import (
	"os"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/internal/testsource"
)

func main() { os.Exit(cli.Main(testsource.Source())) }
