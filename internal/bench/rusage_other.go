//go:build !unix

package bench

import "os"

// rusageMaxRSS is unknown (0) where getrusage is unavailable.
func rusageMaxRSS(*os.ProcessState) int64 { return 0 }
