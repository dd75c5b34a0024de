#!/usr/bin/env bash
# Release binaries: every integration for linux and darwin on amd64 and
# arm64, static (CGO_ENABLED=0), with the version stamped in, plus a
# SHA256SUMS file:
#
#   VERSION=v1.2.3 scripts/release.sh [tap-NAME...]     (make release)
#
# writes dist/tap-<name>_<version>_<os>_<arch> and dist/SHA256SUMS; with no
# names it releases every cmd/tap-*. `tap-<name> --version` prints
# "tap-<name> <version>"; the script checks that on the binary this machine
# can run.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
DIST=${DIST:-dist}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"}
case $VERSION in
*/* | *' '* | '') echo "release: VERSION '$VERSION' cannot be part of a file name" >&2; exit 2 ;;
esac

taps=("$@")
if [ ${#taps[@]} -eq 0 ]; then
	for m in cmd/tap-*/main.go; do
		d=${m%/main.go}
		taps+=("${d#cmd/}")
	done
fi

rm -rf "$DIST"
mkdir -p "$DIST"
hostos=$($GO env GOHOSTOS)
hostarch=$($GO env GOHOSTARCH)
for tap in "${taps[@]}"; do
	for p in $PLATFORMS; do
		os=${p%/*} arch=${p#*/}
		out=$DIST/${tap}_${VERSION}_${os}_${arch}
		CGO_ENABLED=0 GOOS=$os GOARCH=$arch $GO build -trimpath \
			-ldflags "-s -w -X github.com/integ/integ/integ.BuildVersion=$VERSION" \
			-o "$out" "./cmd/$tap"
		echo "release: $out"
		if [ "$os/$arch" = "$hostos/$hostarch" ]; then
			got=$("$out" --version)
			[ "$got" = "$tap $VERSION" ] || { echo "release: $out --version printed '$got', want '$tap $VERSION'" >&2; exit 1; }
		fi
	done
done

(
	cd "$DIST"
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum -- tap-* >SHA256SUMS
	else
		shasum -a 256 -- tap-* >SHA256SUMS # macOS
	fi
)
echo "release: $DIST/SHA256SUMS ($(wc -l <"$DIST/SHA256SUMS") files, version $VERSION)"
