#!/usr/bin/env bash
# Installs the peers the benchmark compares against. Idempotent: a second run
# only checks. Debian packages: nginx-light, haproxy, wrk, nghttp2-client
# (h2load). Traefik is built from its Go module into bench/.cache (git-ignored;
# its code is never committed).
set -euo pipefail

TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.6.2}"
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/.cache"
mkdir -p "$cache/bin"

need=()
command -v nginx   >/dev/null 2>&1 || need+=(nginx-light)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v wrk     >/dev/null 2>&1 || need+=(wrk)
command -v h2load  >/dev/null 2>&1 || need+=(nghttp2-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
if ((${#need[@]})); then
  echo "bench/setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

traefik="$cache/bin/traefik-$TRAEFIK_VERSION"
if [ -n "${SKIP_TRAEFIK:-}" ]; then
  echo "bench/setup: ok (Debian tools; Traefik skipped)"
  exit 0
fi
if [ ! -x "$traefik" ]; then
  echo "bench/setup: building Traefik $TRAEFIK_VERSION from its Go module (a few minutes, once)"
  mod="github.com/traefik/traefik/v3"
  dir="$(GONOSUMDB="$mod" GOFLAGS=-mod=mod go mod download -json "$mod@$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || { echo "bench/setup: go mod download $mod@$TRAEFIK_VERSION failed" >&2; exit 1; }
  src="$cache/traefik-src-$TRAEFIK_VERSION"
  rm -rf "$src"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  # The web UI is built by npm in Traefik's own release; an empty page is enough here.
  mkdir -p "$src/webui/static"
  : > "$src/webui/static/index.html"
  (cd "$src" && GONOSUMDB="$mod" GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 \
     go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION#v}" \
     -o "$traefik.tmp" ./cmd/traefik)
  mv "$traefik.tmp" "$traefik"
  rm -rf "$src"
fi
ln -sf "traefik-$TRAEFIK_VERSION" "$cache/bin/traefik"
echo "bench/setup: ok (nginx $(nginx -v 2>&1 | sed 's|.*/||'), haproxy $(haproxy -v | sed -n '1s/HAProxy version \([^ ]*\).*/\1/p'), traefik $TRAEFIK_VERSION)"
