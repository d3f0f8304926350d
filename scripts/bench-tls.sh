#!/usr/bin/env bash
# TLS edge benchmark: new TLS connections per second (one request each,
# ECDSA P-256 and RSA 2048) and HTTP/2-over-TLS requests per second, for
# Switchyard, nginx and HAProxy answering by themselves (no backend), each
# pinned to core 0 with h2load on core 1; HTTP/3 req/s for Switchyard with
# scripts/h3load (quic-go client).
#   scripts/bench-tls.sh            # needs bin/switchyard (make build), h2load, nginx, haproxy, openssl
set -euo pipefail
cd "$(dirname "$0")/.."
SY=${SY:-bin/switchyard}
N_HS=${N_HS:-4000}     # new connections per run
N_H2=${N_H2:-100000}   # h2 requests per run
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ecdsa.key" -out "$dir/ecdsa.crt" \
  -days 1 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/rsa.key" -out "$dir/rsa.crt" \
  -days 1 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null

port=28643
go build -o "$dir/h3load" ./scripts/h3load   # quic-go client: h2load here has no QUIC
start_switchyard() { # $1 = ecdsa|rsa
  cat >"$dir/sy.yml" <<EOT
entryPoints:
  websecure:
    address: "127.0.0.1:$port"
    http3: {}
providers:
  file:
    filename: $dir/sy-dyn.yml
log:
  level: ERROR
EOT
  cat >"$dir/sy-dyn.yml" <<EOT
http:
  routers:
    r:
      rule: "PathPrefix(\`/\`)"
      service: noop@internal
      tls: {}
tls:
  certificates:
    - certFile: $dir/$1.crt
      keyFile: $dir/$1.key
EOT
  taskset -c 0 "$SY" --configFile="$dir/sy.yml" >"$dir/sy.log" 2>&1 &
}
start_nginx() {
  cat >"$dir/nginx.conf" <<EOT
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $dir/$1.crt;
    ssl_certificate_key $dir/$1.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 418; }
  }
}
EOT
  taskset -c 0 nginx -c "$dir/nginx.conf" -e "$dir/nginx.err" >/dev/null 2>&1 &
}
start_haproxy() {
  cat "$dir/$1.crt" "$dir/$1.key" >"$dir/$1.pem"
  cat >"$dir/haproxy.cfg" <<EOT
global
  nbthread 1
defaults
  mode http
  timeout client 30s
  timeout connect 5s
  timeout server 30s
frontend fe
  bind 127.0.0.1:$port ssl crt $dir/$1.pem alpn h2,http/1.1
  http-request return status 418
EOT
  taskset -c 0 haproxy -f "$dir/haproxy.cfg" >/dev/null 2>&1 &
}
wait_port() { for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return; sleep 0.1; done; echo "nothing on $port" >&2; exit 1; }
rate() { grep -Eo 'finished in [0-9.]+m?s, [0-9.]+ req/s' | awk '{print $4}'; }

printf '%-10s %-6s %18s %14s\n' proxy key "handshakes/s" "h2 req/s"
for key in ecdsa rsa; do
  for p in switchyard nginx haproxy; do
    "start_$p" "$key"; pid=$!
    wait_port
    hs=$(taskset -c 1 h2load --h1 -n "$N_HS" -c 32 -H 'Connection: close' "https://127.0.0.1:$port/" 2>&1 | rate || true)
    out=$(taskset -c 1 h2load -n "$N_H2" -c 10 -m 10 "https://127.0.0.1:$port/" 2>&1 || true)
    h2=$(echo "$out" | rate || true)
    [ -n "$h2" ] || echo "$out" | tail -5 >&2
    printf "%-10s %-6s %18s %14s\n" "$p" "$key" "${hs:--}" "${h2:--}"
    if [ "$p" = switchyard ]; then
      h3=$(taskset -c 1 "$dir/h3load" -url "https://127.0.0.1:$port/" -c 4 -m 10 -d 5s 2>&1 | rate || true)
      printf '%-10s %-6s %18s %14s\n' "$p" "$key" "(HTTP/3 req/s)" "${h3:--}"
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
    sleep 0.3
  done
done
