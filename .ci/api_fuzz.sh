#!/usr/bin/env bash
# Property-based fuzzing of the REST API with schemathesis, against its own OpenAPI schema.
# Run from the repository root with the virtualenv active:  bash .ci/api_fuzz.sh
# Uses a throwaway SQLite database (whatever DATABASE_URL says) and a local runserver.
# Exits non-zero on any failure (server error, schema or status-code mismatch).
set -euo pipefail

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

python -m pip install -q "schemathesis==${SCHEMATHESIS_VERSION}"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export DATABASE_URL="sqlite:///${work}/fuzz.sqlite3"
export DJANGO_SETTINGS_MODULE=directory.settings
export SECRET_KEY="fuzz-$(python -c 'import secrets; print(secrets.token_hex(16))')"
export LOCAL_HTTP=1 DEBUG=0
export THROTTLE_ANON=1000000/minute THROTTLE_USER=1000000/minute
export THROTTLE_TOKEN=1000000/minute THROTTLE_EXPORT=1000000/minute
password="$(python -c 'import secrets; print(secrets.token_urlsafe(18))')"

python manage.py migrate -v 0
python manage.py seed_demo --password "$password" >/dev/null

port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:${port}"
python manage.py runserver "127.0.0.1:${port}" --noreload --insecure >"${work}/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 60); do
  if curl -fsS -o /dev/null "${base}/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "${work}/server.log"; echo "server died" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS -o /dev/null "${base}/healthz"

token=$(curl -fsS -X POST -H 'Content-Type: application/json' \
  -d "{\"username\": \"staff.kz\", \"password\": \"${password}\"}" "${base}/api/v1/auth/token/" \
  | python -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# "Connection: close": runserver's keep-alive responses stall ~40 ms each on delayed ACKs,
# which made the runs four times slower.
# The two runs go in parallel as separate processes (one worker each: schemathesis' threaded
# workers trip a CPython 3.11 AST thread-safety bug inside hypothesis).
run() {
  local label=$1; shift
  st run "${base}/api/v1/schema/" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --seed 20250101 \
    --request-timeout 30 \
    --report ndjson --report-ndjson-path "${work}/${label}.ndjson" \
    -H "Connection: close" \
    "$@" >"${work}/${label}.log" 2>&1
}

summarise() {
  python - "${work}/${1}.ndjson" "$1" <<'PY'
import json, sys
operations, requests = set(), 0
with open(sys.argv[1]) as fh:
    for line in fh:
        event = json.loads(line)
        for name, payload in event.items():
            if not isinstance(payload, dict):
                continue
            recorder = payload.get("recorder") or {}
            label = payload.get("label") or recorder.get("label")
            if name == "ScenarioFinished" and label:
                operations.add(label)
            for interaction in (recorder.get("interactions") or {}).values():
                requests += 1 if interaction.get("response") is not None else 0
print(f"{sys.argv[2]}: {len(operations)} operations tested, {requests} requests")
PY
}

status=0
# Anonymous writes answer 401 before the body is read: fuzz the anonymous reads and the token
# endpoint; the staff run covers every operation, writes included.
run anonymous --exclude-method PUT --exclude-method PATCH --exclude-method DELETE \
  --exclude-operation-id organisations_create & anonymous_pid=$!
run staff -H "Authorization: Token ${token}" & staff_pid=$!
wait "$anonymous_pid" || status=1
wait "$staff_pid" || status=1
for label in anonymous staff; do
  echo "================ schemathesis (${label}) ================"
  cat "${work}/${label}.log"
done
echo "================ totals ================"
summarise anonymous
summarise staff

if [ "$status" -ne 0 ]; then
  echo "API fuzzing FAILED" >&2
  grep -n -A30 "Traceback" "${work}/server.log" | head -80 >&2 || true
  tail -n 20 "${work}/server.log" >&2 || true
  exit 1
fi
echo "API fuzzing passed."
