#!/usr/bin/env bash
# Shows that a production install runs on this machine's Node: copies the repository's files
# to a temporary directory, runs `npm ci --omit=dev` there with the machine's own node and npm,
# then the README's start command (`npm start`), calls ListAccounts with the first API key
# over Connect JSON, and stops it with SIGTERM to npm (exit 0 expected). Bounded: at most
# INSTALL_TIMEOUT_S (300) for the install and 60 s for the rest. Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The machine's node and npm, not the pinned Node that `npm run` would put first on PATH.
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/node_modules/.bin$' | paste -sd: -)
export PATH

dir=$(mktemp -d "${TMPDIR:-/tmp}/ppa-production-XXXXXX")
npm_pid=""
cleanup() {
  [ -n "$npm_pid" ] && kill -KILL "$npm_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$dir"
cd "$dir"
echo "host: node $(node --version), npm $(npm --version)" >&2
timeout "${INSTALL_TIMEOUT_S:-300}" npm ci --omit=dev --no-audit --no-fund >install.log 2>&1 || { cat install.log >&2; exit 1; }
if [ -e node_modules/vitest ] || [ -e node_modules/typescript ]; then
  echo "dev dependencies were installed: this is not a production install" >&2
  exit 1
fi
echo "runtime: $(node_modules/.bin/node --version) (the pinned node dependency)" >&2

export DATA_DIR="$dir/data" GRPC_PORT=0 HTTP_PORT=0 LOG_LEVEL=info
npm start >start.log 2>&1 &
npm_pid=$!
for _ in $(seq 1 300); do
  grep -q '"msg":"serving gRPC and Connect"' start.log && break
  kill -0 "$npm_pid" 2>/dev/null || break
  sleep 0.2
done
line=$(grep '"msg":"serving gRPC and Connect"' start.log) || { echo "npm start did not serve:" >&2; cat start.log >&2; exit 1; }
http_port=$(sed -E 's/.*"httpPort":([0-9]+).*/\1/' <<<"$line")

answer=$(curl -sS --max-time 10 -X POST "http://127.0.0.1:$http_port/postpress.accounts.v1.AccountService/ListAccounts" \
  -H 'content-type: application/json' -H "x-api-key: $(cat "$DATA_DIR/api-key")" -d '{}' -w ' HTTP %{http_code}')
[[ "$answer" == *"HTTP 200" ]] || { echo "ListAccounts failed: $answer" >&2; cat start.log >&2; exit 1; }

kill -TERM "$npm_pid"
code=0
timeout 60 tail --pid="$npm_pid" -f /dev/null || true
wait "$npm_pid" || code=$?
npm_pid=""
grep -q '"msg":"stopped"' start.log && [ "$code" -eq 0 ] || { echo "npm start did not stop cleanly (exit $code):" >&2; cat start.log >&2; exit 1; }
echo "production install: npm ci --omit=dev, npm start served ListAccounts (HTTP 200) and stopped on SIGTERM with exit 0" >&2
