#!/usr/bin/env bash
# Builds a real kube-apiserver (Kubernetes v1.34.2, Apache-2.0) from its Go
# module for the integration tests. Idempotent: does nothing when the binary
# is cached. The cache lives outside the clone, keyed by version, so every
# clone and worktree shares one build:
# ${XDG_CACHE_HOME:-~/.cache}/switchyard/kube-apiserver-VERSION.
# Prints the binary's path on its last line of standard output.
#
# The k8s.io/kubernetes module replaces every k8s.io/* staging module by a
# folder of its own tree, which a module download does not carry; the build
# swaps those replace lines for requirements on the published modules of
# the same release (v0.34.2 for v1.34.2). About 4 minutes on 2 cores, once.
set -euo pipefail

VERSION="${KUBE_VERSION:-v1.34.2}"
STAGING_VERSION="v0.${VERSION#v1.}"
CACHE="${SWITCHYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard}/kube-apiserver-${VERSION}"
BIN="$CACHE/bin/kube-apiserver"
GO="${GO:-go}"

have_it() {
  [ -x "$BIN" ] || return 1
  local v
  v="$("$BIN" --version 2>/dev/null || true)"
  [[ "$v" == *"${VERSION}"* ]]
}

have_it && { echo "$BIN"; exit 0; }

mkdir -p "$CACHE/bin"
exec 9>"$CACHE/.lock"
flock 9
have_it && { echo "$BIN"; exit 0; }
echo "kube-apiserver: building ${VERSION} into $BIN (about 4 minutes, once)" >&2

DIR="$(cd "$CACHE" && GOFLAGS=-mod=mod GOWORK=off "$GO" mod download -json "k8s.io/kubernetes@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then
  echo "kube-apiserver: go mod download gave no directory" >&2
  exit 1
fi

SRC="$(mktemp -d "$CACHE/src.XXXXXX")"
trap 'rm -rf "$SRC"' EXIT
rmdir "$SRC"
cp -r "$DIR" "$SRC"
chmod -R u+w "$SRC"
cd "$SRC"

# Every "k8s.io/x => ./staging/src/k8s.io/x" becomes "require k8s.io/x vSTAGING".
mods="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' go.mod)"
sed -i '/=> .\/staging\//d' go.mod
for m in $mods; do
  "$GO" mod edit -dropreplace="$m" -require="$m@${STAGING_VERSION}"
done
rm -f go.work go.work.sum
GOWORK=off GOFLAGS=-mod=mod "$GO" build -mod=mod -trimpath \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${STAGING_VERSION#v0.}" \
  -o "$BIN.tmp" ./cmd/kube-apiserver
mv "$BIN.tmp" "$BIN"
"$BIN" --version >&2
echo "$BIN"
