#!/usr/bin/env bash
# Installs what `make docker` and `make docker-smoke` need on a Debian
# machine with no Docker engine and no reachable container registry: podman
# (builds and runs without a daemon), runc, busybox-static (the images'
# /bin/sh) and ca-certificates. .ci/run runs it before `make test`; it is
# idempotent, and a machine that has a working Docker daemon needs none of it.
#
# As root inside a container or VM without CAP_SYS_RESOURCE, podman's
# default rlimits (nofile 1048576) cannot be applied, so it also writes
# /etc/containers/containers.conf with default_ulimits the machine allows
# and runtime = "runc", unless that file exists and is not ours.
set -euo pipefail

say() { echo "ci-setup: $*"; }

if [ "$(id -u)" != 0 ]; then
	say "not root: skipped (install podman runc busybox-static ca-certificates yourself)"
	exit 0
fi

pkgs=(podman runc busybox-static ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "apt-get install ${missing[*]}"
	start=$(date +%s)
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || { sleep 5; apt-get update -qq; }
	apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >/tmp/ci-setup-apt.log 2>&1 ||
		{ tail -20 /tmp/ci-setup-apt.log; say "apt-get install failed"; exit 1; }
	say "installed in $(($(date +%s) - start))s"
else
	say "podman, runc, busybox-static and ca-certificates already installed"
fi

conf=/etc/containers/containers.conf
marker="# written by integ's docker/ci-setup.sh"
if [ -e "$conf" ] && ! grep -qF "$marker" "$conf"; then
	say "$conf exists and is not ours: left as it is"
else
	# Podman lowers its own nproc limit to 32768 when it cannot raise it,
	# so the container may ask for no more than that, nor above the hard
	# limits this process has.
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
	if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
	mkdir -p /etc/containers
	cat >"$conf.tmp" <<EOF
$marker
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
	mv "$conf.tmp" "$conf"
	say "wrote $conf: nofile=$nofile nproc=$nproc, runtime runc"
fi
say "$(podman --version), $(runc --version | head -1)"
