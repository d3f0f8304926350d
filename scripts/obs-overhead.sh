#!/usr/bin/env bash
# CPU time per request of bin/switchyard with metrics + access log off vs on
# (wrk, 32 connections, GOMAXPROCS=1, proxy on core 0, wrk and backend on
# core 1). CPU per request is read from /proc/<pid>/stat, so it is far less
# sensitive to a busy machine than req/s. Usage: scripts/obs-overhead.sh [rounds]
set -euo pipefail
rounds=${1:-3}
bin=${SWITCHYARD:-bin/switchyard}
whoami=${WHOAMI:-bin/whoami}
port=${PORT:-28100}
bport=$((port + 80))
dir=$(mktemp -d)
trap 'kill $wpid 2>/dev/null || true; rm -rf "$dir"' EXIT

cat > "$dir/dyn.yml" <<EOT
http:
  routers:
    bench:
      rule: "PathPrefix(\`/\`)"
      service: backend
      entryPoints: [web]
  services:
    backend:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$bport"
EOT
cat > "$dir/off.yml" <<EOT
entryPoints:
  web:
    address: "127.0.0.1:$port"
providers:
  providersThrottleDuration: 50ms
  file:
    filename: $dir/dyn.yml
log:
  level: ERROR
EOT
cp "$dir/off.yml" "$dir/on.yml"
cat >> "$dir/on.yml" <<EOT
metrics:
  prometheus:
    entryPoint: web
    addRoutersLabels: true
accessLog:
  filePath: $dir/access.log
  bufferingSize: 100
EOT

GOMAXPROCS=1 taskset -c 1 "$whoami" -addr "127.0.0.1:$bport" >/dev/null 2>&1 &
wpid=$!
hz=$(getconf CLK_TCK)

one() {
  GOMAXPROCS=1 taskset -c 0 "$bin" --configFile="$dir/$1.yml" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  local t0 t1 out reqs rps
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  out=$(taskset -c 1 wrk -t1 -c32 -d5s "http://127.0.0.1:$port/" 2>&1)
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  echo "$1: $rps req/s, $(echo "scale=1; ($t1-$t0)*1000000/$hz/$reqs" | bc) µs CPU/request"
}
for _ in $(seq "$rounds"); do one off; one on; done
