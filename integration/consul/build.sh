#!/usr/bin/env bash
# Builds a real Consul agent (v1.14.8, MPL-2.0) from its Go module for the
# integration tests. Idempotent: does nothing when the binary is cached.
# Output: integration/consul/.cache/bin/consul (git-ignored).
set -euo pipefail

VERSION="${CONSUL_VERSION:-v1.14.8}"
API_VERSION="${CONSUL_API_VERSION:-v1.18.1}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="$HERE/.cache"
BIN="$CACHE/bin/consul"
GO="${GO:-go}"

if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "Consul ${VERSION}"; then
  exit 0
fi

mkdir -p "$CACHE/bin"
echo "consul: building ${VERSION} into $BIN (a few minutes, once)" >&2

# Download the module source into the module cache (read-only there).
DIR="$(cd "$CACHE" && GOFLAGS=-mod=mod "$GO" mod download -json "github.com/hashicorp/consul@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then
  echo "consul: go mod download gave no directory" >&2
  exit 1
fi

SRC="$CACHE/src"
rm -rf "$SRC"
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
rm -rf "$SRC"
"$BIN" version >&2
