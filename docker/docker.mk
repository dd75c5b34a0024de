# Container images, their smoke test, and release binaries. The root
# Makefile includes this file, so GO, BIN, TAPS and VERSION come from there.
# See docker/README.md.

# IMAGE_PREFIX goes before every image name, e.g. IMAGE_PREFIX=ghcr.io/me/
# for ghcr.io/me/source-pokeapi:<version>.
IMAGE_PREFIX ?=
export IMAGE_PREFIX

.PHONY: docker docker-smoke release

docker: build ## one image per integration, source-<name>:<version>, with docker or podman
	@BIN='$(BIN)' bash docker/build.sh '$(VERSION)' $(TAPS)

# In CI (CI set, as CI services do, and not false or 0) a missing engine is
# a failure: .ci/run installs one, so its absence means the setup broke and
# the images went untested. A developer's machine may skip.
docker-smoke: ## smoke-test every image (builds them first; skips when there is no engine, fails so in CI)
	@if engine=$$(sh docker/engine.sh); then \
		$(MAKE) --no-print-directory docker VERSION='$(VERSION)' BIN='$(BIN)' && \
		CONTAINER_ENGINE=$$engine SMOKE_VERSION='$(VERSION)' SMOKE_BIN="$(abspath $(BIN))" \
			$(GO) test -tags smoke -count=1 -timeout 15m -v ./docker/; \
	else \
		case "$${CI:-}" in \
		""|false|0) echo "docker-smoke: skipped: no container engine (neither a running Docker daemon nor podman)";; \
		*) echo "docker-smoke: FAILED: CI=$$CI and no container engine (neither a running Docker daemon nor podman): run docker/ci-setup.sh as root, see docker/README.md" >&2; exit 1;; \
		esac; \
	fi

release: ## dist/: tap-<name>_<version>_<os>_<arch> for linux/darwin on amd64/arm64, and SHA256SUMS
	@VERSION='$(VERSION)' GO='$(GO)' bash scripts/release.sh $(TAPS)
