#!/usr/bin/env bash
# Builds the image of each named integration from its static binary:
#
#   docker/build.sh VERSION tap-pokeapi [tap-...]
#
# makes ${IMAGE_PREFIX}source-pokeapi:TAG from ${BIN:-bin}/tap-pokeapi, where
# TAG is VERSION with any character a tag may not hold replaced by "-".
# Each image is FROM scratch: a temp build context gets rootfs.tar (see
# docker/Dockerfile.in) and the filled-in Dockerfile, so no registry is
# needed. The engine is docker (when its daemon answers) or podman; set
# CONTAINER_ENGINE to choose. BUSYBOX and CA_CERTS name the files to copy in
# (default: Debian's busybox-static and ca-certificates).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 2 ] || { echo "usage: $0 VERSION tap-NAME..." >&2; exit 2; }
version=$1
shift
bin=${BIN:-bin}
prefix=${IMAGE_PREFIX:-}
busybox=${BUSYBOX:-/bin/busybox}
certs=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

engine=$(sh docker/engine.sh) || {
	echo "docker: no container engine: install podman (apt-get install podman runc; see docker/ci-setup.sh) or start Docker" >&2
	exit 1
}

# tag turns a version into a valid image tag: [A-Za-z0-9_.-], at most 128
# characters, not starting with "." or "-".
tag=$(printf '%s' "$version" | tr -c 'A-Za-z0-9_.-' '-' | sed 's/^[.-]/_/' | cut -c1-128)
[ -n "$tag" ] || tag=dev

# dynamic: the file needs a dynamic loader (ldd, from libc-bin, says so).
dynamic() { command -v ldd >/dev/null 2>&1 && ldd "$1" >/dev/null 2>&1; }
[ -x "$busybox" ] || { echo "docker: no $busybox: apt-get install busybox-static" >&2; exit 1; }
dynamic "$busybox" && { echo "docker: $busybox is dynamically linked: apt-get install busybox-static (not busybox)" >&2; exit 1; }
[ -s "$certs" ] || { echo "docker: no $certs: apt-get install ca-certificates" >&2; exit 1; }

# The applets Airbyte's launcher script and a person debugging need.
applets="sh ash [ test echo printf cat env id kill ls mkdir mkfifo rm sleep touch true false head tail tee wc"

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

for tap in "$@"; do
	name=${tap#tap-}
	image=${prefix}source-$name
	exe=$bin/tap-$name
	[ -x "$exe" ] || { echo "docker: no $exe: run make build first" >&2; exit 1; }
	dynamic "$exe" && { echo "docker: $exe is dynamically linked: build it with CGO_ENABLED=0" >&2; exit 1; }

	rm -rf "$ctx"/*
	root=$ctx/root
	mkdir -p "$root/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/airbyte/bin"
	install -m 0755 "$busybox" "$root/bin/busybox"
	for a in $applets; do ln -s busybox "$root/bin/$a"; done
	install -m 0644 "$certs" "$root/etc/ssl/certs/ca-certificates.crt"
	printf 'root:x:0:0:root:/root:/bin/sh\nairbyte:x:1000:1000:airbyte:/airbyte:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\nairbyte:x:1000:\n' >"$root/etc/group"
	chmod 0644 "$root/etc/passwd" "$root/etc/group"
	install -m 0755 "$exe" "$root/airbyte/bin/tap-$name"
	chmod 0755 "$root" "$root/bin" "$root/etc" "$root/etc/ssl" "$root/etc/ssl/certs" "$root/airbyte" "$root/airbyte/bin"
	chmod 1777 "$root/tmp"

	# /airbyte belongs to airbyte (its first entry, so extraction keeps the
	# owner); everything else to root, the binary included, so the connector
	# cannot rewrite itself.
	tarflags=(--format=gnu --numeric-owner --mtime="@$epoch" --sort=name -C "$root")
	tar -cf "$ctx/rootfs.tar" "${tarflags[@]}" --owner=1000 --group=1000 --no-recursion airbyte
	tar -rf "$ctx/rootfs.tar" "${tarflags[@]}" --owner=0 --group=0 bin etc tmp airbyte/bin
	rm -rf "$root"

	sed -e "s|@NAME@|$name|g" -e "s|@IMAGE@|$image|g" -e "s|@VERSION@|$tag|g" docker/Dockerfile.in >"$ctx/Dockerfile"

	pull=()
	[ "$engine" = podman ] && pull=(--pull=never)
	echo "docker: $engine build $image:$tag"
	"$engine" build "${pull[@]}" -q -t "$image:$tag" -f "$ctx/Dockerfile" "$ctx" >/dev/null
	size=$("$engine" image inspect --format '{{.Size}}' "$image:$tag")
	echo "docker: built $image:$tag ($((size / 1024)) KiB)"
done
