#!/bin/sh
# The build stage of the Dockerfile, as a script the tests run too
# (integration/kube_deploy_test.go): a static, reproducible switchyard
# binary. Usage: deploy/docker/build.sh OUTPUT [VERSION]
# GOOS/GOARCH from the environment cross-compile (docker buildx sets
# TARGETOS/TARGETARCH, which the Dockerfile passes on).
set -eu
OUT="${1:?usage: build.sh OUTPUT [VERSION]}"
VERSION="${2:-${VERSION:-dev}}"
BUILD_DATE="${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
PKG=github.com/switchyard-proxy/switchyard/internal/version
# CGO off: no libc, so the binary runs on scratch. -trimpath: no build
# paths in the binary. -s -w: no symbol table or DWARF.
CGO_ENABLED=0 exec "${GO:-go}" build -trimpath \
  -ldflags "-s -w -X $PKG.Version=$VERSION -X $PKG.BuildDate=$BUILD_DATE" \
  -o "$OUT" ./cmd/switchyard
