#!/bin/bash
# tests/integration/svc_user.sh - the service as a VirtualBox user meets it
# (issue 11), in a temporary CAPSULE_HOME, with a real VM (serial_hlt.bin
# under whatever engine auto picks):
#  - everyday mistakes are told without lock jargon: controlvm of a stopped
#    VM says it is not running; startvm of a running VM says it is already
#    running, with its frontend and pid; unregistervm --delete of a running
#    VM says to power it off first (item 5); a running VM's SessionName is
#    its frontend;
#  - createvm --register of a name already registered fails and leaves
#    nothing behind, so that the same command fails the same way again
#    (item 1);
#  - renaming a machine (modifyvm --name) renames its folder, its settings
#    file and, inside, its logs; capsule.xml follows, and the old name is
#    free for a new machine (item 2);
#  - a VM that aborts says why in showvminfo (VMStateAbortReason, "Abort
#    reason:") beside when (VMStateChangeTime): a triple fault as the VM
#    process reports it, a VM process killed by a signal as the service saw
#    it; the reason is kept across a service restart (and is no extra
#    data) and goes when the machine starts again (item 6).
# Time limits scale with CAPSULE_TIMEOUT_SCALE. Every capsule-svc and
# capsule-vm started here is killed at the end.
set -u
NAME=svc_user
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/serial_hlt.bin
TRIPLE=${CAPSULE_BUILD:-}/tests/vm-payloads/triple.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD $TRIPLE"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"

# no_jargon ARGS...: the message of the last command (its first line; the
# details line after it names the API call) holds no lock words.
no_jargon() {
    if head -1 "$tmp/err" | grep -qiE 'lock|session \(pid'; then
        fail "capsule $*: lock jargon in: $err"
    fi
}

ok createvm --name demo --register
ok modifyvm demo --kernel "$PAYLOAD"

# --- item 1: a refused createvm leaves nothing --------------------------
mkdir -p "$tmp/base"
for try in first second; do
    expect 1 "a machine named 'demo' is already registered" \
        createvm --name demo --basefolder "$tmp/base" --register
    [ -e "$tmp/base/demo" ] && fail "the $try refused createvm left $(find "$tmp/base/demo")"
done
ok createvm --name other --basefolder "$tmp/base" --register
ok unregistervm other --delete
[ -e "$tmp/base/other" ] && fail "unregistervm --delete left $(find "$tmp/base/other")"

# --- item 5: mistakes told plainly ---------------------------------------
expect 1 "machine 'demo' is not running" controlvm demo poweroff
no_jargon controlvm demo poweroff

ok startvm demo --type headless
pid=$(mr demo SessionPID)
[ -n "$pid" ] && [ "$pid" != 0 ] || fail "no SessionPID while running: '$pid'"
[ "$(mr demo SessionName)" = '"headless"' ] && echo "ok   SessionName headless while running" ||
    fail "SessionName while running: $(mr demo SessionName)"

expect 1 "machine 'demo' is already running \(frontend headless, pid $pid\)" startvm demo
no_jargon startvm demo
expect 1 "machine 'demo' is running \(frontend headless, pid $pid\); power it off first" \
    unregistervm demo --delete
no_jargon unregistervm demo --delete
[ -f "$CAPSULE_HOME/Machines/demo/demo.capsule" ] || fail "the refused delete removed the file"

ok controlvm demo poweroff
[ "$(mr demo SessionName)" = '""' ] && echo "ok   SessionName empty once off" ||
    fail "SessionName once off: $(mr demo SessionName)"

# --- item 2: the folder follows the name ---------------------------------
M=$CAPSULE_HOME/Machines
[ -f "$M/demo/Logs/capsule-vm.log" ] || fail "no VM log to carry along in $M/demo/Logs"
ok modifyvm demo --name demo2
[ -e "$M/demo" ] && fail "modifyvm --name left $M/demo: $(ls -A "$M/demo")"
[ -f "$M/demo2/demo2.capsule" ] && echo "ok   settings file renamed to demo2/demo2.capsule" ||
    fail "no $M/demo2/demo2.capsule: $(ls -R "$M")"
[ -f "$M/demo2/Logs/capsule-vm.log" ] && echo "ok   the logs moved along" ||
    fail "no $M/demo2/Logs/capsule-vm.log"
[ "$(mr demo2 CfgFile)" = "\"$M/demo2/demo2.capsule\"" ] || fail "CfgFile: $(mr demo2 CfgFile)"
grep -q "demo2/demo2.capsule" "$CAPSULE_HOME/capsule.xml" && echo "ok   capsule.xml follows" ||
    fail "capsule.xml: $(cat "$CAPSULE_HOME/capsule.xml")"
ok createvm --name demo --register

# --- item 6: why it aborted -----------------------------------------------
ok createvm --name crash --register
ok modifyvm crash --kernel "$TRIPLE"
run startvm crash --type headless # it may abort before or after startvm returns
if wait_state crash aborted; then
    reason=$(mr crash VMStateAbortReason)
    case "$reason" in
    '"triple fault at '*) echo "ok   VMStateAbortReason=$reason" ;;
    *) fail "VMStateAbortReason of the triple fault: '$reason'" ;;
    esac
    [ -n "$(mr crash VMStateChangeTime)" ] || fail "no VMStateChangeTime"
    "$CAP" showvminfo crash >"$tmp/human" 2>&1
    grep -qE '^Abort reason: +triple fault at ' "$tmp/human" &&
        grep -qE '^State: +aborted \(since [0-9]{4}-' "$tmp/human" &&
        echo "ok   showvminfo: State aborted (since ...), Abort reason: triple fault" ||
        fail "showvminfo of the aborted VM: $(cat "$tmp/human")"
    # The reason is the machine's own (IMachine's abortReason), not an
    # extra data item a user's setextradata could change, and it is saved
    # with the state: a new service (the old one killed) still knows it.
    ok getextradata crash enumerate
    grep -qi 'abort' "$tmp/out" && fail "the abort reason is in the extra data: $out"
    kill_svc
    [ -z "$(svc_pid)" ] || fail "the service still runs after kill_svc"
    [ "$(mr crash VMStateAbortReason)" = "$reason" ] && [ "$(mr crash VMState)" = '"aborted"' ] &&
        echo "ok   a new service still says why: $reason" ||
        fail "after a service restart: VMState $(mr crash VMState), reason $(mr crash VMStateAbortReason) (was $reason)"
fi

ok startvm demo2 --type headless
vmpid=$(mr demo2 SessionPID)
kill -9 "$vmpid" 2>/dev/null || fail "no VM process to kill ($vmpid)"
if wait_state demo2 aborted; then
    reason=$(mr demo2 VMStateAbortReason)
    case "$reason" in
    *"VM process (pid $vmpid) was killed by signal 9"*) echo "ok   VMStateAbortReason=$reason" ;;
    *) fail "VMStateAbortReason after SIGKILL: '$reason'" ;;
    esac
fi
ok startvm demo2 --type headless
[ -z "$(mr demo2 VMStateAbortReason)" ] && echo "ok   no abort reason once it runs again" ||
    fail "the old abort reason stayed: $(mr demo2 VMStateAbortReason)"
ok controlvm demo2 poweroff

finish
