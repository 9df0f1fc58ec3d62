#!/bin/bash
# tests/integration/web_load.sh - capsule-web under load (issue 16, "Load"):
# 50 concurrent API clients (webload.py: each its own session and
# connection) for 30 s (CAPSULE_WEB_LOAD_SECS) against one server with three
# machines: no errors; afterwards the service's object handle count is what
# one fresh session holds, capsule-svc's open files are as before and
# capsule-web's resident memory has not grown by more than 4 MB. Not part of
# `scons check` (30 s): `scons check-web-load`.
set -u
NAME=web-load
NEED="$CAPSULE_BUILD/bin/capsule-web"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
SECS=${CAPSULE_WEB_LOAD_SECS:-30}

web_pid=
on_exit() { [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null; }

for n in 1 2 3; do ok createvm --name "load$n" --register; done
"$B/bin/capsule-web" --port 0 >"$tmp/web.out" 2>"$tmp/web.err" </dev/null &
web_pid=$!
for i in $(seq $((100 * S))); do grep -q 'login token' "$tmp/web.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/^capsule-web: URL: //p' "$tmp/web.out")
[ -n "$url" ] || { fail "capsule-web printed no URL: $(cat "$tmp/web.err")"; finish; }
token=$(cat "$CAPSULE_HOME/web-token")
svc=$(svc_pid)

# handles: the service's objectHandleCount as a fresh session sees it.
handles() {
    local csrf root
    csrf=$(curl -s -c "$tmp/jar" -d "{\"token\":\"$token\"}" "${url}api/login" | jq -r .csrfToken)
    root=$(curl -s -b "$tmp/jar" "${url}api/ICapsule" | jq -r .id)
    curl -s -b "$tmp/jar" "${url}api/objects/$root/objectHandleCount" | jq -r .objectHandleCount
    curl -s -b "$tmp/jar" -H "X-CSRF-Token: $csrf" -X POST "${url}api/logout" >/dev/null
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$web_pid/status"; }

# A short warm-up run first, so that what the allocator keeps for 50
# threads is not counted as growth.
python3 "$(dirname "$0")/webload.py" "$url" "$token" 50 1 >/dev/null
h0=$(handles)
fds0=$(ls "/proc/$svc/fd" | wc -l)
rss0=$(rss)
if python3 "$(dirname "$0")/webload.py" "$url" "$token" 50 "$SECS" >"$tmp/load" 2>&1; then
    pass "$(cat "$tmp/load")"
else
    fail "load: $(cat "$tmp/load")"
fi
h1=$(handles)
fds1=$(ls "/proc/$svc/fd" | wc -l)
rss1=$(rss)
[ "$h1" = "$h0" ] && pass "the service's object handles: $h0 before, $h1 after" ||
    fail "object handles $h0 before, $h1 after"
[ "$fds1" = "$fds0" ] && pass "capsule-svc's open files: $fds0 before, $fds1 after" ||
    fail "capsule-svc's open files $fds0 before, $fds1 after"
[ $((rss1 - rss0)) -le 4096 ] && pass "capsule-web's RSS: $rss0 kB before, $rss1 kB after" ||
    fail "capsule-web's RSS grew from $rss0 kB to $rss1 kB"
finish
