#!/bin/sh
# Runs a connector image as if it were the bare binary, for Meltano's
# `executable` and for `tap | target` pipelines:
#
#   IMAGE=source-pokeapi:v1.2.3 docker/run-tap.sh --config config.json [--catalog ...] | target-...
#
# The current directory is mounted at the same path and is the working
# directory, so config, catalog and state paths under it (relative, or
# absolute as Meltano passes them) work unchanged. The connector runs as the
# caller's uid, so it can read files only the caller may read, with stdin
# attached and the host's network (CONTAINER_NETWORK overrides). The engine is
# docker when its daemon answers, else podman (CONTAINER_ENGINE overrides).
set -eu
: "${IMAGE:?set IMAGE, e.g. IMAGE=source-pokeapi:v1.2.3}"
engine=$(sh "$(dirname "$0")/engine.sh") || { echo "run-tap: no container engine (docker or podman)" >&2; exit 1; }
exec "$engine" run --rm -i --network="${CONTAINER_NETWORK:-host}" \
	--user "$(id -u):$(id -g)" -v "$PWD:$PWD" -w "$PWD" "$IMAGE" "$@"
