#!/usr/bin/env bash
# Runs every Fuzz target in the module with the budget $1 (default 20000x).
#
# The budget is a count of executions (20000x) or a duration (30s). CI uses a
# count: with a duration, Go 1.26's fuzz coordinator can end a clean run with a
# bare "context deadline exceeded" failure when the deadline races a worker
# (golang/go#75804, fixed in Go 1.27). A count sets no deadline, so that race
# cannot happen. For a duration run, a failure is real only when the fuzzer
# wrote a failing input to testdata/fuzz/<target>/ or printed more than that
# one line; the race alone is reported as such and the target is run again.
set -euo pipefail
budget=${1:-20000x}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# inputs lists the failing inputs kept for a target.
inputs() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort || true; }

# deadline_race reports whether a failed run is only golang/go#75804: the
# sole failure text is "context deadline exceeded" and no new input was kept.
deadline_race() { # log before after
	[ "$2" = "$3" ] || return 1
	local reasons
	reasons=$(sed -n '/^--- FAIL/,/^FAIL$/p' "$1" | grep -v -e '^--- FAIL' -e '^FAIL$' -e '^exit status' || true)
	[ "$(echo "$reasons" | sed 's/^[[:space:]]*//')" = "context deadline exceeded" ]
}

status=0
while IFS= read -r pkg; do
	dir=.${pkg#github.com/integ/integ}
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		for try in 1 2; do
			echo "fuzz $pkg $target ($budget)"
			before=$(inputs "$dir" "$target")
			if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" "$pkg" >"$log" 2>&1; then
				break
			fi
			if [ "$try" = 1 ] && deadline_race "$log" "$before" "$(inputs "$dir" "$target")"; then
				echo "fuzz $target: the fuzz coordinator's deadline race (golang/go#75804), no failing input; running it again"
				continue
			fi
			cat "$log"
			status=1
			break
		done
	done
done < <(go list ./...)
exit $status
