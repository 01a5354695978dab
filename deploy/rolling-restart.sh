#!/usr/bin/env bash
# Restarts the backends behind Fairway one at a time, cutting no request: for each upstream, drain it (no new
# requests) and wait until its last request has ended, run the restart command you give, wait until Fairway's
# health checks see it UP again, and put it back in rotation. Stops at the first step that fails, leaving that
# upstream drained (so nothing is sent to a backend in an unknown state) and saying how to undo it.
#
#   deploy/rolling-restart.sh --restart 'systemctl restart flask@{port}'            # systemd template units
#   deploy/rolling-restart.sh --restart 'sc.exe stop flask-{port} && sc.exe start flask-{port}'   # Windows services (Git Bash)
#   deploy/rolling-restart.sh --restart '...' --dry-run                            # print the plan, change nothing
#
# Options: --admin URL (default http://127.0.0.1:9901), --token TOKEN (default $FAIRWAY_ADMIN_TOKEN), --wait DURATION
# for the drain (default 30m), --up-timeout SECONDS (default 120), --only ID (repeatable; default every upstream).
# In the command, {id}, {host} and {port} stand for the upstream's. Needs curl and python3.
set -euo pipefail

admin=http://127.0.0.1:9901
token=${FAIRWAY_ADMIN_TOKEN:-}
wait=30m
up_timeout=120
restart=""
dry_run=false
only=()
while [ $# -gt 0 ]; do
  case $1 in
    --admin) admin=$2; shift 2 ;;
    --token) token=$2; shift 2 ;;
    --wait) wait=$2; shift 2 ;;
    --up-timeout) up_timeout=$2; shift 2 ;;
    --restart) restart=$2; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "rolling-restart: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$restart" ] || { echo "rolling-restart: --restart 'COMMAND' is required (see --help)" >&2; exit 2; }
[ -n "$token" ] || { echo "rolling-restart: the admin token is required: --token or FAIRWAY_ADMIN_TOKEN" >&2; exit 2; }
command -v curl >/dev/null && command -v python3 >/dev/null || { echo "rolling-restart: needs curl and python3" >&2; exit 2; }

api() {   # api METHOD PATH [BODY]: prints the body; the status goes to $status_file
  curl -s -o - -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$admin/admin$2"
}
probed_up() {   # probed_up ID SINCE_MS: "yes" once /health shows ID UP by a probe made after SINCE_MS
  curl -s "$admin/health" | python3 -c 'import json,sys
ups = json.load(sys.stdin)["checks"][0]["data"]["upstreams"]
u = next((u for u in ups if u["id"] == sys.argv[1]), None)
print("yes" if u and u["status"] == "UP" and u.get("last_check_at", 0) > int(sys.argv[2]) else "no")' "$1" "$2" 2>/dev/null || echo no
}
field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d.get(sys.argv[1]) if isinstance(d, dict) else "")' "$1"; }

listing=$(api GET /upstreams)
[ "$(tail -n1 <<<"$listing")" = 200 ] || { echo "rolling-restart: GET $admin/admin/upstreams failed: $listing" >&2; exit 1; }
mapfile -t upstreams < <(sed '$d' <<<"$listing" | python3 -c 'import json,sys
for u in json.load(sys.stdin)["upstreams"]: print(u["id"], u["host"], u["port"])')
[ ${#only[@]} -eq 0 ] || mapfile -t upstreams < <(printf '%s\n' "${upstreams[@]}" | grep -F -f <(printf '%s \n' "${only[@]}"))

echo "rolling restart of ${#upstreams[@]} upstream(s) behind $admin$($dry_run && echo ' (dry run: nothing is changed)')"
n=0
for line in "${upstreams[@]}"; do
  read -r id host port <<<"$line"
  n=$((n + 1))
  cmd=${restart//\{id\}/$id}; cmd=${cmd//\{host\}/$host}; cmd=${cmd//\{port\}/$port}
  echo "[$n/${#upstreams[@]}] $id"
  if $dry_run; then
    echo "  1. drain: POST /admin/upstreams/$id/drain?wait=$wait (no new requests; wait for the last one to end)"
    echo "  2. restart: $cmd"
    echo "  3. wait until a health check made after the restart passes, at most ${up_timeout}s"
    echo "  4. back in rotation: PUT /admin/upstreams/$id {\"state\":\"active\"}"
    continue
  fi
  reply=$(api POST "/upstreams/$id/drain?wait=$wait")
  if [ "$(tail -n1 <<<"$reply")" != 200 ]; then
    echo "  drain did not finish: $(sed '$d' <<<"$reply")" >&2
    echo "  $id stays drained; undo with: curl -X PUT -H 'Authorization: Bearer ...' -d '{\"state\":\"active\"}' $admin/admin/upstreams/$id" >&2
    exit 1
  fi
  echo "  drained after $(sed '$d' <<<"$reply" | field waited_seconds)s"
  echo "  restart: $cmd"
  if ! bash -c "$cmd"; then
    echo "  the restart command failed; $id stays drained" >&2
    exit 1
  fi
  deadline=$((SECONDS + up_timeout))
  restarted_at=$(python3 -c 'import time; print(int(time.time() * 1000))')
  # UP by a probe made after the restart (one from before it says nothing about the new process)
  until [ "$(probed_up "$id" "$restarted_at")" = yes ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "  not UP after ${up_timeout}s; $id stays drained" >&2
      exit 1
    fi
    sleep 1
  done
  reply=$(api PUT "/upstreams/$id" '{"state":"active"}')
  [ "$(tail -n1 <<<"$reply")" = 200 ] || { echo "  could not put it back: $reply" >&2; exit 1; }
  echo "  UP and back in rotation"
done
echo "done"
