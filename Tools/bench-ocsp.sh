#!/usr/bin/env bash
# OCSP responder load test on loopback, in one run: wrk POSTs one DER request (no nonce, the
# RFC 5019 form) at 16, 64 and 256 connections (CONNS to change) for D seconds each against
#   etrust-ocspd (release build) with its default logging (the access log, one line per request,
#   written to a file) and the same binary with --log-level error (no access log),
#   `openssl ocsp -port` on the same CA and revocation data, and
#   nginx serving a static file of the same size as the response, its access log on (the
#   machine's HTTP ceiling).
# Reports requests/s, p50/p99 latency, each responder's share of nginx's rate, and peak memory.
# Bounded: loopback only.
# Usage: Tools/bench-ocsp.sh [SECONDS]   (default 10). Needs wrk and nginx (apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
d=${1:-10}
for tool in wrk nginx; do command -v $tool >/dev/null || { echo "missing $tool: apt-get install wrk nginx-light"; exit 2; }; done
# ETRUST_BENCH_BIN=DIR measures prebuilt binaries (e.g. an earlier commit's, for a before/after run).
if [ -z "${ETRUST_BENCH_BIN:-}" ]; then
  swift build -c release --product etrust --product etrust-ocspd >/dev/null 2>&1 || { swift build -c release --product etrust >/dev/null; swift build -c release --product etrust-ocspd >/dev/null; }
fi
bin="${ETRUST_BENCH_BIN:-$root/.build/release}"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export ETRUST_PASSPHRASE=bench-passphrase
h="$work/home"
"$bin/etrust" init --home "$h" --public-url http://pki.bench.tg >/dev/null
"$bin/etrust" ca create root --home "$h" --subject "CN=Bench Root,O=etrust,C=TG" >/dev/null
"$bin/etrust" ca create issuing --home "$h" --parent root --subject "CN=Bench Issuing,O=etrust,C=TG" >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Ama Mensah/C=TG" -keyout "$work/k" -out "$work/r" 2>/dev/null
"$bin/etrust" issue --home "$h" --ca issuing --profile citizen-authentication --csr "$work/r" --out "$work/leaf.pem" >/dev/null
openssl ocsp -issuer "$h/certs/issuing.pem" -cert "$work/leaf.pem" -no_nonce -reqout "$work/req.der" >/dev/null 2>&1
# The responder's delegated certificate and key, made on the CA host (etrust-ocspd holds no CA key).
export ETRUST_SIGNER_PASSPHRASE=bench-responder-passphrase
"$bin/etrust" ocsp provision --home "$h" --ca issuing >/dev/null

# etrust-ocspd: default logging (access lines to a file, as under a service manager) and quiet.
"$bin/etrust-ocspd" --home "$h" --listen 127.0.0.1:18480 2>"$work/ocspd-access.log" &
pids+=($!); ocspd_pid=$!
"$bin/etrust-ocspd" --home "$h" --listen 127.0.0.1:18483 --log-level error &
pids+=($!); quiet_pid=$!
# openssl ocsp on the same CA: its index.txt from the database, the issuing CA's key decrypted.
serial=$(openssl x509 -in "$work/leaf.pem" -noout -serial | cut -d= -f2)
enddate=$(openssl x509 -in "$work/leaf.pem" -noout -enddate | cut -d= -f2)
printf 'V\t%s\t\t%s\tunknown\t/CN=Ama Mensah\n' "$(date -u -d "$enddate" +%y%m%d%H%M%SZ)" "$serial" > "$work/index.txt"
openssl pkey -in "$h/keys/issuing.key.pem" -passin env:ETRUST_PASSPHRASE -out "$work/issuing.key" 2>/dev/null
start_openssl() {
  # A fresh `openssl ocsp -port` for each run: one wedged connection leaves it deaf.
  [ -n "${openssl_pid:-}" ] && { kill "$openssl_pid" 2>/dev/null || true; wait "$openssl_pid" 2>/dev/null || true; }
  openssl ocsp -index "$work/index.txt" -port 18481 -rsigner "$h/certs/issuing.pem" -rkey "$work/issuing.key" \
    -CA "$h/certs/issuing.pem" -ignore_err -nmin 60 >/dev/null 2>&1 &
  openssl_pid=$!
  pids+=($openssl_pid)
  sleep 1
}
openssl_pid=""
start_openssl
sleep 1
# nginx: a static file the size of etrust-ocspd's answer.
curl -s --data-binary @"$work/req.der" -H 'Content-Type: application/ocsp-request' http://127.0.0.1:18480/ocsp -o "$work/resp.der"
size=$(stat -c %s "$work/resp.der")
mkdir -p "$work/www"; head -c "$size" /dev/urandom > "$work/www/ocsp"
chmod 755 "$work" "$work/www"; chmod 644 "$work/www/ocsp"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/tmp;
  server { listen 127.0.0.1:18482; location / { root $work/www; default_type application/ocsp-response; } }
}
CONF
mkdir -p "$work/tmp"; nginx -c "$work/nginx.conf"; sleep 1
pids+=($(cat "$work/nginx.pid"))
cat > "$work/post.lua" <<LUA
-- Resolve without wrk's probe connection (it would wedge openssl ocsp -port: openssl issues 23934, 31129).
function wrk.resolve(host, service) wrk.addrs = wrk.lookup(host, service) end
local f = io.open("$work/req.der", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/ocsp-request"
LUA
cat > "$work/get.lua" <<LUA
function wrk.resolve(host, service) wrk.addrs = wrk.lookup(host, service) end
LUA
declare -A rate
run() { # name url script conns
  local out
  out=$(wrk -t "$(( $4 < 2 ? 1 : 2 ))" -c "$4" -d "${d}s" --latency -s "$3" "$2" 2>&1)
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local errs; errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  rate["$1/$4"]=$rps
  printf '%-22s %5s %12s %10s %10s  %s\n' "$1" "$4" "$rps" "$p50" "$p99" "$errs"
}
peak() { awk '/VmHWM/ {printf "%d MiB", $2/1024}' /proc/$1/status 2>/dev/null; }
printf '%-22s %5s %12s %10s %10s\n' "server" "conns" "requests/s" "p50" "p99"
for c in ${CONNS:-16 64 256}; do
  run "etrust-ocspd" http://127.0.0.1:18480/ocsp "$work/post.lua" $c
  run "etrust-ocspd (quiet)" http://127.0.0.1:18483/ocsp "$work/post.lua" $c
  start_openssl
  run "openssl ocsp" http://127.0.0.1:18481/ "$work/post.lua" $c
  openssl_peak=$(peak $openssl_pid)
  run nginx http://127.0.0.1:18482/ocsp "$work/get.lua" $c
done
echo
printf '%5s %22s %22s %20s\n' conns "etrust-ocspd/nginx" "logging cost" "etrust/openssl"
for c in ${CONNS:-16 64 256}; do
  awk -v d="${rate[etrust-ocspd/$c]}" -v q="${rate[etrust-ocspd (quiet)/$c]}" -v n="${rate[nginx/$c]}" -v o="${rate[openssl ocsp/$c]}" -v c=$c \
    'BEGIN { printf "%5s %21.0f%% %21.1f%% %19.1fx\n", c, 100*d/n, 100*(q-d)/q, (o>0 ? d/o : 0) }'
done
access_lines=$(wc -l < "$work/ocspd-access.log")
printf '\nresponse size %d bytes; access lines written by etrust-ocspd: %d; peak memory: etrust-ocspd %s (quiet %s), openssl ocsp %s\n' \
  "$size" "$access_lines" "$(peak $ocspd_pid)" "$(peak $quiet_pid)" "$openssl_peak"
nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true
