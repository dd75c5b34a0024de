#!/bin/sh
# Prints the container engine to use, "docker" or "podman", and exits 0; or
# exits 1, printing nothing, when the machine has neither.
#
# CONTAINER_ENGINE overrides the choice. Otherwise a Docker client counts
# only when its daemon answers (a bare client, as on machines with no
# engine, does not), and podman needs no daemon.
set -u
if [ -n "${CONTAINER_ENGINE:-}" ]; then
	command -v "$CONTAINER_ENGINE" >/dev/null 2>&1 || exit 1
	echo "$CONTAINER_ENGINE"
	exit 0
fi
if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
	echo docker
	exit 0
fi
if command -v podman >/dev/null 2>&1; then
	echo podman
	exit 0
fi
exit 1
