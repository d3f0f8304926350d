#!/bin/sh
# Lays out the build context of deploy/docker/Dockerfile.scratch in OUTDIR:
# OUTDIR/Dockerfile and OUTDIR/rootfs/ with the static binary (build.sh),
# the CA bundle of this machine, /etc/passwd and /etc/group naming the
# non-root user 65532, and a world-writable /tmp.
# Usage: deploy/docker/context.sh OUTDIR [VERSION]
set -eu
OUT="${1:?usage: context.sh OUTDIR [VERSION]}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CA="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
test -r "$CA" || { echo "context.sh: no CA bundle at $CA (install ca-certificates or set CA_BUNDLE)" >&2; exit 1; }
rm -rf "$OUT/rootfs"
mkdir -p "$OUT/rootfs/usr/local/bin" "$OUT/rootfs/etc/ssl/certs" "$OUT/rootfs/tmp"
cd "$HERE/../.."
"$HERE/build.sh" "$OUT/rootfs/usr/local/bin/switchyard" "${2:-${VERSION:-dev}}"
cp "$CA" "$OUT/rootfs/etc/ssl/certs/ca-certificates.crt"
echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > "$OUT/rootfs/etc/passwd"
echo 'nonroot:x:65532:' > "$OUT/rootfs/etc/group"
chmod 1777 "$OUT/rootfs/tmp"
cp "$HERE/Dockerfile.scratch" "$OUT/Dockerfile"
