#!/usr/bin/env bash
# The offline demo: start the project's PokeAPI-shaped server on 127.0.0.1,
# run a real sync with bin/tap-pokeapi, and leave the output in demo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo-output
mkdir -p "$out"
rm -f "$out/demoapi.url"
bin/demoapi --addr 127.0.0.1:0 --url-file "$out/demoapi.url" 2>"$out/demoapi.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/demoapi.url" ] && break; sleep 0.05; done
[ -s "$out/demoapi.url" ] || { echo "demo: the demo server did not start; see $out/demoapi.log" >&2; exit 1; }
printf '{"base_url": "%s", "page_size": 100}\n' "$(cat "$out/demoapi.url")" > "$out/config.json"

start=$(date +%s%N)
bin/tap-pokeapi --config "$out/config.json" > "$out/pokeapi.singer.jsonl" 2> "$out/tap.log"
bin/tap-pokeapi --config "$out/config.json" --discover > "$out/catalog.json" 2>>"$out/tap.log"
end=$(date +%s%N)
summary=$(grep -o '"type":"RECORD","stream":"[^"]*"' "$out/pokeapi.singer.jsonl" | sed 's/.*"stream":"//; s/"$//' | sort | uniq -c | awk '{printf "%s%s=%s", (NR>1?", ":""), $2, $1}')
ms=$(( (end - start) / 1000000 ))
printf 'demo: synced %s records in %d ms (%s) -> %s/pokeapi.singer.jsonl\n' \
	"$(grep -c '"type":"RECORD"' "$out/pokeapi.singer.jsonl")" "$ms" "$summary" "$out"
