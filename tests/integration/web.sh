#!/bin/bash
# tests/integration/web.sh - capsule-web's JSON API with curl (issue 16
# items 2 and 4), in a temporary CAPSULE_HOME against the real capsule-svc,
# started by `capsule web --port 0` (the CLI execs capsule-web):
#  - the login token printed and stored 0600 in CAPSULE_HOME/web-token;
#    login sets an HttpOnly SameSite=Strict cookie; a wrong token, no
#    cookie (401), a state-changing request without the CSRF header or
#    with another session's (403);
#  - the root, createMachine + registerMachine, findMachine, the machine's
#    name, its state as an enum name, the machine seen by the CLI;
#  - errors as JSON {result, code, message} with their status: an unknown
#    object id and member (404), a wrong JSON type (400), the service's own
#    refusal of a bad argument (400 with its message), GET on a method (405);
#  - objects released by DELETE and at logout (the service's handle count
#    back where it was); the typed path /api/IFACE/ID/MEMBER (QueryInterface);
#  - events: a passive listener through the generated calls, and the same
#    as Server-Sent Events (/api/events);
#  - /api/openapi.json is OpenAPI with the IDL's descriptions and enums;
#  - the pages: index.html served, `../` and its encodings refused (404).
set -u
NAME=web
NEED="$CAPSULE_BUILD/bin/capsule-web"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
for t in curl jq; do
    command -v $t >/dev/null || { echo "FAIL: $NAME: $t is not installed (tools/setup.sh)"; exit 1; }
done

web_pid=
on_exit() { [ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null; }

"$CAP" web --port 0 >"$tmp/web.out" 2>"$tmp/web.err" </dev/null &
web_pid=$!
for i in $(seq $((100 * S))); do
    grep -q 'login token' "$tmp/web.out" 2>/dev/null && break
    kill -0 $web_pid 2>/dev/null || break
    sleep 0.05
done
url=$(sed -n 's/^capsule-web: URL: //p' "$tmp/web.out")
[ -n "$url" ] || { fail "capsule web printed no URL: $(cat "$tmp/web.out" "$tmp/web.err")"; finish; }
case $url in http://127.0.0.1:[0-9]*/) pass "capsule web serves $url (loopback)" ;;
*) fail "URL $url is not loopback" ;; esac

# --- the token --------------------------------------------------------------
tokfile=$CAPSULE_HOME/web-token
token=$(sed -n 's/^capsule-web: login token: \([0-9a-f]*\) .*/\1/p' "$tmp/web.out")
[ "$(stat -c %a "$tokfile")" = 600 ] && pass "web-token is 0600" ||
    fail "web-token mode $(stat -c %a "$tokfile")"
[ ${#token} = 64 ] && [ "$(cat "$tokfile")" = "$token" ] && pass "the printed token is the stored one" ||
    fail "printed token [$token], stored [$(cat "$tokfile")]"

# req METHOD PATH [BODY] [curl args...]: $code, $body (jar $tmp/jar, CSRF $csrf).
jar=$tmp/jar
csrf=
req() {
    local m=$1 p=$2 d=${3-} extra=()
    shift 2
    [ $# -gt 0 ] && shift
    [ -n "$csrf" ] && extra+=(-H "X-CSRF-Token: $csrf")
    [ -n "$d" ] && extra+=(-H 'Content-Type: application/json' --data-binary "$d")
    code=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -b "$jar" -c "$jar" \
        -X "$m" "${extra[@]}" "$@" "$url${p#/}")
    body=$(cat "$tmp/body")
}
# js FILTER: jq's FILTER on the last body, raw text.
js() { jq -r "$1" "$tmp/body"; }
# want CODE RESULT PATTERN WHAT: the last reply was that error.
want() {
    if [ "$code" = "$1" ] && [ "$(js '.result')" = "$2" ] && [ "$(js '.code | type')" = number ] &&
        js '.message' | grep -qE -- "$3"; then
        pass "$4: $code $2: $(js '.message')"
    else
        fail "$4: got $code $body (want $1 $2 /$3/)"
    fi
}
# get ID ATTR: the attribute's value (fails the test on an error).
get() {
    req GET "/api/objects/$1/$2"
    [ "$code" = 200 ] || fail "GET $1/$2: $code $body"
    val=$(js ".$2")
}

req POST /api/login '{"token":"nope"}'
want 401 CAP_E_ACCESSDENIED 'wrong or missing login token' "login with a wrong token"
req GET /api/ICapsule
want 401 CAP_E_ACCESSDENIED 'not logged in' "a request without the session cookie"
req POST /api/login "{\"token\":\"$token\"}"
csrf=$(js '.csrfToken')
[ "$code" = 200 ] && [ ${#csrf} = 64 ] && pass "login" || fail "login: $code $body"
grep -i '^set-cookie: capsule_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' "$tmp/hdr" >/dev/null &&
    pass "the session cookie is HttpOnly and SameSite=Strict" || fail "cookie: $(grep -i cookie "$tmp/hdr")"

# --- objects and calls --------------------------------------------------------
req GET /api/ICapsule
root=$(js '.id')
[ "$code" = 200 ] && [ "$(js '.interface')" = ICapsule ] && pass "the root is $root" ||
    fail "GET /api/ICapsule: $code $body"
get "$root" objectHandleCount
handles0=$val
req POST "/api/objects/$root/createMachine" '{"name":"webvm","osTypeId":"Linux_64"}'
vm=$(js '.machine')
[ "$code" = 200 ] && [ -n "$vm" ] && pass "createMachine gives $vm" || fail "createMachine: $code $body"
req POST "/api/objects/$root/registerMachine" "{\"machine\":\"$vm\"}"
[ "$code" = 200 ] && [ "$body" = '{}' ] && pass "registerMachine" || fail "registerMachine: $code $body"
get "$vm" name
[ "$val" = webvm ] && pass "the machine's name is webvm" || fail "name: $val"
get "$vm" state
[ "$val" = PoweredOff ] && pass "its state is the enum name PoweredOff" || fail "state: $body"
req POST "/api/objects/$root/findMachine" '{"nameOrId":"webvm"}'
found=$(js '.machine')
get "$found" id
uuid=$val
echo "$uuid" | grep -qE '^[0-9a-f-]{36}$' && pass "findMachine webvm: id $uuid" || fail "id: $body"
get "$root" machines
[ "$(js '.machines | length')" = 1 ] && pass "machines lists one object" || fail "machines: $body"
ok list vms
echo "$out" | grep -q "\"webvm\" {$uuid}" && pass "the CLI sees the machine" || fail "list vms: $out"
req GET "/api/IMachine/$found/name"
[ "$code" = 200 ] && [ "$(js '.name')" = webvm ] && pass "the typed path /api/IMachine/ID/name" ||
    fail "typed path: $code $body"
req GET "/api/IMachine/$root/name"
want 404 CAP_E_NOINTERFACE 'is an ICapsule, not an IMachine' "the root as an IMachine"

# --- errors ---------------------------------------------------------------------
req GET /api/objects/o999999/name
want 404 CAP_E_OBJECT_NOT_FOUND "no object 'o999999' in this session" "an unknown object id"
req GET "/api/objects/$vm/noSuchThing"
want 404 CAP_E_NO_TYPEINFO "IMachine has no method or attribute 'noSuchThing'" "an unknown member"
req GET "/api/objects/$root/findMachine"
want 405 CAP_E_INVALIDARG 'GET is not allowed' "GET on a method"
req POST "/api/objects/$root/findMachine" '{"nameOrId":42}'
want 400 CAP_E_INVALIDARG "ICapsule::findMachine: param 'nameOrId' must be a string, not number" \
    "a number for a string param"
req POST "/api/objects/$root/findMachine" '{"name":"webvm"}'
want 400 CAP_E_INVALIDARG "has no in param 'name'" "a misspelt param"
req POST "/api/objects/$root/createMachine" '{"name":""}'
want 400 CAP_E_INVALIDARG 'the machine name must be non-empty' "the service refusing an empty name"
req POST "/api/objects/$root/findMachine" '{"nameOrId":"nosuchvm"}'
want 404 CAP_E_OBJECT_NOT_FOUND "no registered machine is called 'nosuchvm'" "findMachine of no machine"
req POST "/api/objects/$root/findMachine" '{"nameOrId":'
want 400 CAP_E_INVALIDARG 'not JSON: offset 12: expected a value' "a body that is not JSON"
saved=$csrf
csrf=
req POST "/api/objects/$root/findMachine" '{"nameOrId":"webvm"}'
want 403 CAP_E_ACCESSDENIED 'X-CSRF-Token' "a POST without the CSRF header"
csrf=0000000000000000000000000000000000000000000000000000000000000000
req DELETE "/api/objects/$vm"
want 403 CAP_E_ACCESSDENIED 'X-CSRF-Token' "a DELETE with a wrong CSRF token"
csrf=$saved

# --- settings through a session: a Session made in capsule-web -------------------
req PUT "/api/objects/$vm/memorySize" '{"memorySize":64}'
mem_err=$(js '.message')
[ "$code" = 409 ] && pass "PUT on an unlocked machine: $code $(js '.result'): $mem_err" ||
    fail "PUT memorySize without a lock: $code $body"
req POST /api/classes/Session
sess=$(js '.id')
[ "$code" = 200 ] && [ "$(js '.interface')" = ISession ] && pass "POST /api/classes/Session" ||
    fail "classes/Session: $code $body"
req POST /api/classes/NoSuchClass
want 404 CAP_E_CLASS_NOT_REGISTERED "no class named 'NoSuchClass'" "an unknown class"
req POST "/api/objects/$vm/lockMachine" "{\"session\":\"$sess\",\"lockType\":\"Write\"}"
[ "$code" = 200 ] || fail "lockMachine: $code $body"
get "$sess" machine
mut=$val
req PUT "/api/objects/$mut/memorySize" '{"memorySize":"lots"}'
want 400 CAP_E_INVALIDARG "param 'memorySize' must be an integer, not string" "PUT with a string"
req PUT "/api/objects/$mut/memorySize" '{"memorySize":64}'
[ "$code" = 200 ] || fail "PUT memorySize: $code $body"
req POST "/api/objects/$mut/saveSettings"
[ "$code" = 200 ] || fail "saveSettings: $code $body"
req POST "/api/objects/$sess/unlockMachine"
[ "$code" = 200 ] || fail "unlockMachine: $code $body"
get "$vm" memorySize
[ "$val" = 64 ] && pass "memorySize set to 64 through lockMachine/PUT/saveSettings" ||
    fail "memorySize is $val after saving 64"

# --- events, through the same generated calls ---------------------------------
# A passive listener: an array of enum names in, an event out, read as the
# IMachineRegisteredEvent it is through the typed path.
get "$root" eventSource
es=$val
req POST "/api/objects/$es/createListener"
lis=$(js '.listener')
req POST "/api/objects/$es/registerListener" \
    "{\"listener\":\"$lis\",\"interesting\":[\"OnMachineRegistered\"],\"active\":false}"
[ "$code" = 200 ] && pass "registerListener with [\"OnMachineRegistered\"]" || fail "registerListener: $code $body"
req POST "/api/objects/$es/registerListener" "{\"listener\":\"$lis\",\"interesting\":[\"OnNothing\"]}"
want 400 CAP_E_INVALIDARG "param 'interesting': 'OnNothing' is not a constant of EventType" "an unknown enum name"
req POST "/api/objects/$root/createMachine" '{"name":"webvm2"}'
vm2=$(js '.machine')
req POST "/api/objects/$root/registerMachine" "{\"machine\":\"$vm2\"}"
get "$vm2" id
uuid2=$val
req POST "/api/objects/$es/getEvent" "{\"listener\":\"$lis\",\"timeout\":$((5000 * S))}"
ev=$(js '.event')
[ "$code" = 200 ] && [ "$ev" != null ] || fail "getEvent: $code $body"
get "$ev" type
[ "$val" = OnMachineRegistered ] && pass "getEvent: an event of type $val" || fail "event type: $body"
req GET "/api/IMachineRegisteredEvent/$ev/machineId"
[ "$(js '.machineId')" = "$uuid2" ] && pass "as IMachineRegisteredEvent: machineId is webvm2's" ||
    fail "IMachineRegisteredEvent.machineId: $code $body (want $uuid2)"
req GET "/api/IMachineRegisteredEvent/$ev/registered"
[ "$(js '.registered')" = true ] && pass "registered is true" || fail "registered: $body"
req POST "/api/objects/$es/unregisterListener" "{\"listener\":\"$lis\"}"
[ "$code" = 200 ] || fail "unregisterListener: $code $body"

# --- events as Server-Sent Events -------------------------------------------------
req GET "/api/events?types=Bogus"
want 400 CAP_E_INVALIDARG "types: 'Bogus' is not a constant of EventType" "an unknown event type"
curl -sN -b "$jar" "${url}api/events?types=OnMachineRegistered,OnMachineStateChanged" \
    >"$tmp/sse" 2>/dev/null &
sse_pid=$!
for i in $(seq $((100 * S))); do grep -q '^: connected' "$tmp/sse" && break; sleep 0.05; done
req POST "/api/objects/$root/createMachine" '{"name":"webvm3"}'
vm3=$(js '.machine')
req POST "/api/objects/$root/registerMachine" "{\"machine\":\"$vm3\"}"
get "$vm3" id
uuid3=$val
for i in $(seq $((100 * S))); do grep -q "^data: .*$uuid3" "$tmp/sse" && break; sleep 0.05; done
kill $sse_pid 2>/dev/null
wait $sse_pid 2>/dev/null
data=$(grep -A1 '^event: OnMachineRegistered' "$tmp/sse" | grep "$uuid3" | sed 's/^data: //')
if [ -n "$data" ] && [ "$(echo "$data" | jq -r '.type, .registered' | tr '\n' ' ')" = "OnMachineRegistered true " ]; then
    pass "SSE: event OnMachineRegistered with machineId and registered"
else
    fail "SSE stream: $(cat "$tmp/sse")"
fi
curl -s -o /dev/null -w '%{http_code}' "${url}api/events?types=OnMachineRegistered" >"$tmp/code"
[ "$(cat "$tmp/code")" = 401 ] && pass "SSE without the cookie: 401" || fail "SSE without cookie: $(cat "$tmp/code")"

# --- release ---------------------------------------------------------------------
req DELETE "/api/objects/$vm"
[ "$code" = 200 ] && pass "DELETE $vm" || fail "DELETE: $code $body"
req GET "/api/objects/$vm/name"
want 404 CAP_E_OBJECT_NOT_FOUND "no object '$vm'" "a deleted object"
for i in 1 2 3 4 5; do req GET "/api/objects/$root/host"; done
get "$root" objectHandleCount
[ "$val" -gt "$handles0" ] && pass "handles grew to $val (from $handles0)" ||
    fail "handle count $val after taking objects (was $handles0)"
req POST /api/logout
[ "$code" = 200 ] && pass "logout" || fail "logout: $code $body"
req GET "/api/objects/$root/version"
want 401 CAP_E_ACCESSDENIED 'not logged in' "the session after logout"
csrf=
req POST /api/login "{\"token\":\"$token\"}"
csrf=$(js '.csrfToken')
req GET /api/ICapsule
root=$(js '.id')
# The event stream's listener goes within a second (its next write finds the
# client gone).
for i in $(seq $((60 * S))); do
    get "$root" objectHandleCount
    [ "$val" = "$handles0" ] && break
    sleep 0.05
done
[ "$val" = "$handles0" ] && pass "logout released the session's objects ($val handles)" ||
    fail "handle count $val after logout, $handles0 before"

# --- OpenAPI -----------------------------------------------------------------------
req GET /api/openapi.json
python3 - "$tmp/body" <<'EOF' && pass "openapi.json: OpenAPI 3 with the IDL's descriptions" || fail "openapi.json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["openapi"].startswith("3."), d["openapi"]
p = d["paths"]
g = p["/api/IMachine/{id}/memorySize"]
assert "get" in g and "put" in g, g.keys()
assert "Guest RAM in MB" in g["get"]["description"], g["get"]
fm = p["/api/ICapsule/{id}/findMachine"]["post"]
assert fm["requestBody"]["content"]["application/json"]["schema"]["properties"]["nameOrId"]["description"]
st = d["components"]["schemas"]["MachineState"]
assert "PoweredOff" in st["enum"] and st["description"], st
assert p["/api/IMachine/{id}/state"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["state"]["allOf"][0]["$ref"] == "#/components/schemas/MachineState"
EOF

# --- static pages ------------------------------------------------------------------
req GET /
[ "$code" = 200 ] && grep -q '<title>Capsule</title>' "$tmp/body" && pass "/ serves index.html" ||
    fail "GET /: $code"
for p in /../web-token /static/../../web-token /%2e%2e/web-token /..%2fweb-token /./index.html; do
    req GET "$p" '' --path-as-is
    [ "$code" = 404 ] && pass "GET $p is 404" || fail "GET $p: $code $body"
done
kill "$web_pid"
wait "$web_pid" 2>/dev/null
rc=$?
[ $rc = 0 ] && pass "capsule-web ended on SIGTERM (exit 0)" ||
    fail "capsule-web exit $rc on SIGTERM: $(tail -n 30 "$tmp/web.err")"
web_pid=
finish
