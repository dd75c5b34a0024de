#!/usr/bin/env bash
# End-to-end check of tap-rest against json-server 0.17, a real third-party
# REST server: installs it from npm (once, into a cache directory), then runs
# TestJSONServer, which builds bin/tap-rest, serves a generated db.json on
# 127.0.0.1, syncs it in full as a Singer tap and as an Airbyte source,
# updates records on the server with PATCH, and syncs again incrementally
# from each protocol's saved state.
#
#   integrations/rest/testdata/jsonserver/run.sh [RECORDS]
#
# RECORDS is the number of posts (default 5000). Needs node and npm.
# JSON_SERVER_DIR overrides the install directory.
set -euo pipefail
records=${1:-5000}
version=0.17.4
root=$(cd "$(dirname "$0")/../../../.." && pwd)
dir=${JSON_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/integ/json-server-$version}
bin=$dir/node_modules/.bin/json-server

for tool in node npm go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 1; }
done
if [ ! -x "$bin" ]; then
	echo "installing json-server $version into $dir"
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "json-server@$version" >&2
fi

cd "$root"
INTEG_JSON_SERVER=$bin INTEG_JSON_SERVER_RECORDS=$records \
	go test -count=1 -run '^TestJSONServer$' -v ./integrations/rest/
