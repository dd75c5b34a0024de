// Command testtap is internal/testsource as a binary, for tests that need a
// real process: signals, exit codes, whole lines on a pipe. It is not built
// by make build and has no image.
//
// TESTTAP_CHECKPOINT_RECORDS, when set, is the number of records between
// checkpoints, so that a test can kill a sync that has already written state.
// TESTTAP_SOURCE=sliced runs testsource.SlicedSource (events read in time
// windows, concurrently) instead.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/integ/integ/cmd/cli"
	"github.com/integ/integ/internal/testsource"
)

func main() {
	if v := os.Getenv("TESTTAP_CHECKPOINT_RECORDS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "CRITICAL TESTTAP_CHECKPOINT_RECORDS=%q is not a positive number of records\n", v)
			os.Exit(2)
		}
		cli.CheckpointRecords = n
	}
	src := testsource.Source()
	if os.Getenv("TESTTAP_SOURCE") == "sliced" {
		src = testsource.SlicedSource()
	}
	os.Exit(cli.Main(src))
}
