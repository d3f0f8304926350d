#!/usr/bin/env bash
# Builds Pebble (Let's Encrypt's ACME test CA, MPL-2.0) from its Go module
# for the ACME integration tests. Idempotent: does nothing when the binary
# is cached, outside the clone and keyed by version:
# ${XDG_CACHE_HOME:-~/.cache}/switchyard/pebble-VERSION. Prints the binary's
# path on its last line of standard output.
set -euo pipefail

VERSION="${PEBBLE_VERSION:-v2.10.1}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${SWITCHYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard}/pebble-${VERSION}"
BIN="$CACHE/bin/pebble"
GO="${GO:-go}"

have_it() {
  [ -x "$BIN" ] || return 1
  [ "$(cat "$CACHE/bin/VERSION" 2>/dev/null || true)" = "$VERSION" ]
}

have_it && { echo "$BIN"; exit 0; }
mkdir -p "$CACHE/bin"
# One build at a time (make test and a test run may race): wait, re-check.
exec 9>"$CACHE/.lock"
flock 9
have_it && { echo "$BIN"; exit 0; }
echo "pebble: building ${VERSION} into $BIN (once)" >&2
TMP="$(mktemp -d "$CACHE/gobin.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# go install pkg@version builds in module mode with Pebble's own go.mod,
# independent of this repository's dependencies.
(cd "$CACHE" && GOBIN="$TMP" GOFLAGS=-mod=mod "$GO" install "github.com/letsencrypt/pebble/v2/cmd/pebble@${VERSION}")
mv "$TMP/pebble" "$BIN"
echo "$VERSION" > "$CACHE/bin/VERSION"
echo "$BIN"
