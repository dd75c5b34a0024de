#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time each ($1, default 5s).
set -euo pipefail
fuzztime=${1:-5s}
cd "$(dirname "$0")/.."
status=0
while IFS= read -r pkg; do
	dir=${pkg#github.com/integ/integ}
	dir=.${dir}
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "fuzz $pkg $target ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/fuzz.$$.log 2>&1; then
			cat /tmp/fuzz.$$.log; status=1
		fi
	done
done < <(go list ./...)
rm -f /tmp/fuzz.$$.log
exit $status
