#!/usr/bin/env bash
# Builds a real Consul agent (v1.14.8, MPL-2.0) from its Go module for the
# integration tests. Idempotent: does nothing when the binary is cached.
# The cache lives outside the clone, keyed by version, so every clone and
# worktree shares one build: ${XDG_CACHE_HOME:-~/.cache}/switchyard/consul-VERSION.
# Prints the binary's path on its last line of standard output.
set -euo pipefail

VERSION="${CONSUL_VERSION:-v1.14.8}"
API_VERSION="${CONSUL_API_VERSION:-v1.18.1}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${SWITCHYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard}/consul-${VERSION}"
BIN="$CACHE/bin/consul"
GO="${GO:-go}"

# (no pipe into grep -q: with pipefail its early exit would fail the check)
have_it() {
  [ -x "$BIN" ] || return 1
  local v
  v="$("$BIN" version 2>/dev/null || true)"
  [[ "$v" == *"Consul ${VERSION}"* ]]
}

have_it && { echo "$BIN"; exit 0; }

mkdir -p "$CACHE/bin"
# One build at a time (make test and a test run may race): wait, then re-check.
exec 9>"$CACHE/.lock"
flock 9
have_it && { echo "$BIN"; exit 0; }
echo "consul: building ${VERSION} into $BIN (a few minutes, once)" >&2

# Download the module source into the module cache (read-only there).
DIR="$(cd "$CACHE" && GOFLAGS=-mod=mod "$GO" mod download -json "github.com/hashicorp/consul@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then
  echo "consul: go mod download gave no directory" >&2
  exit 1
fi

SRC="$(mktemp -d "$CACHE/src.XXXXXX")"
trap 'rm -rf "$SRC"' EXIT
rmdir "$SRC"
cp -r "$DIR" "$SRC"
chmod -R u+w "$SRC"

cd "$SRC"
# The module replaces api, sdk and proto-public with folders of its own tree;
# a module download carries none of them, so use the published modules.
sed -i '/^replace github.com\/hashicorp\/consul\/\(api\|sdk\|proto-public\)/d' go.mod
sed -i '/^[[:space:]]*github.com\/hashicorp\/consul\/\(api\|sdk\|proto-public\) => /d' go.mod
"$GO" mod edit -require="github.com/hashicorp/consul/api@${API_VERSION}"
GOFLAGS=-mod=mod "$GO" build -mod=mod -trimpath -o "$BIN.tmp" .
mv "$BIN.tmp" "$BIN"
"$BIN" version >&2
echo "$BIN"
