#!/usr/bin/env bash
# Builds Helm (v4, Apache-2.0) from its Go module for the deployment tests
# (render and lint deploy/helm/switchyard). Idempotent: does nothing when the
# binary is cached. The cache lives outside the clone, keyed by version, so
# every clone and worktree shares one build:
# ${XDG_CACHE_HOME:-~/.cache}/switchyard/helm-VERSION/bin/helm.
# Prints the binary's path on its last line of standard output.
# About 2.5 minutes on 2 cores with an empty module cache, once.
set -euo pipefail

VERSION="${HELM_VERSION:-v4.3.2}"
MAJOR="${VERSION%%.*}"
CACHE="${SWITCHYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard}/helm-${VERSION}"
BIN="$CACHE/bin/helm"
GO="${GO:-go}"

have_it() {
  [ -x "$BIN" ] || return 1
  local v
  v="$("$BIN" version --template '{{.Version}}' 2>/dev/null || true)"
  [ "$v" = "$VERSION" ]
}

have_it && { echo "$BIN"; exit 0; }

mkdir -p "$CACHE/bin"
exec 9>"$CACHE/.lock"
flock 9
have_it && { echo "$BIN"; exit 0; }
echo "helm: building ${VERSION} into $BIN (about 2.5 minutes, once)" >&2

TMP="$(mktemp -d "$CACHE/gobin.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
(cd "$CACHE" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$TMP" \
  "$GO" install -trimpath -ldflags "-s -w -X helm.sh/helm/${MAJOR}/internal/version.version=${VERSION}" "helm.sh/helm/${MAJOR}/cmd/helm@${VERSION}")
mv "$TMP/helm" "$BIN"
"$BIN" version >&2
echo "$BIN"
