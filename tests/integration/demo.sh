#!/bin/bash
# tests/integration/demo.sh - capsule-sdk-demo, the quickstart's main job, as
# a user runs it: output of each step, --help, usage and load errors.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
DEMO=$B/bin/capsule-sdk-demo
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$DEMO" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "demo exited $rc: $(cat "$tmp/err")"
for want in 'registry: created @capsule.org/host;1' \
    "processorCount         $(getconf _NPROCESSORS_ONLN)" \
    "operatingSystem        \"$(uname -s)\"" \
    "osVersion              \"$(uname -r)\"" \
    'proxy handler: IHost slot 9 (getOperatingSystem), forwarding' \
    'capsule-sdk-demo: ok'; do
    grep -qF -- "$want" "$tmp/out" || fail "output lacks '$want'"
done
[ -s "$tmp/err" ] && fail "stderr not empty: $(cat "$tmp/err")"

"$DEMO" --help >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q '^usage: capsule-sdk-demo' "$tmp/out" || fail "--help (exit $rc)"

"$DEMO" --bogus >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "unknown argument '--bogus'" "$tmp/out" || fail "bad argument (exit $rc)"

# A components folder without the Host manifest: a clear failure, exit 1.
mkdir "$tmp/empty"
"$DEMO" --components "$tmp/empty" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'CAP_E_CLASS_NOT_REGISTERED' "$tmp/err" &&
    grep -q '@capsule.org/host;1' "$tmp/err" || fail "empty components dir (exit $rc): $(cat "$tmp/err")"

# A broken manifest beside a good one: reported as a warning naming the file
# and line, skipped, and the rest still works.
cp "$B"/lib/components/* "$tmp/"
rm -rf "$tmp/empty"
printf '<component name="x" library="../evil.so" abi="1"><class/></component>\n' >"$tmp/bad.manifest"
"$DEMO" --components "$tmp" >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?
[ $rc -eq 0 ] && grep -q 'warning: skipped' "$tmp/err.txt" && grep -q 'bad.manifest:1:' "$tmp/err.txt" &&
    grep -q 'capsule-sdk-demo: ok' "$tmp/out.txt" || fail "bad manifest not reported (exit $rc): $(cat "$tmp/err.txt")"

[ $fails -eq 0 ] && echo "demo: all passed"
exit $((fails > 0))
