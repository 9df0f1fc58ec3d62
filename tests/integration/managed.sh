#!/bin/bash
# tests/integration/managed.sh - the managed flow end to end, in a temporary
# CAPSULE_HOME: createvm -> modifyvm --kernel (serial_hlt.bin: prints a line
# on COM1, then HLTs with interrupts off) --uart1 0x3f8 4 --uartmode1 file
# -> startvm --type headless (capsule-svc spawns capsule-vm, which locks the
# machine and powers it up) -> showvminfo running -> controlvm pause /
# resume / reset from other processes (shared sessions, the console proxied
# by the service into capsule-vm) -> waitfor (woken by the state event) ->
# controlvm poweroff -> poweroff, the serial file holds the payload's line,
# the VM process is gone and its log is in the machine's Logs folder.
# Then: a missing kernel fails startvm with the VM process's message and
# leaves the machine poweroff; SIGKILL of a running capsule-vm leaves the
# machine aborted, and it starts again from there; a VM process that hangs
# before it reports its power-up is killed after the launch timeout
# (CAPSULE_SVC_LAUNCH_TIMEOUT) and startvm says so; killing capsule-svc
# under a running VM makes the VM process power off. The machine's Logs
# folder keeps the last three logs of earlier runs.
# The machine keeps the default engine, auto: hm or rem as the host
# allows. Nothing here needs KVM: without a usable /dev/kvm the flow runs
# under rem, and the VM's log must say that auto fell back to it.
# Time limits scale with CAPSULE_TIMEOUT_SCALE. Every capsule-svc and
# capsule-vm started here is killed at the end.
set -u
NAME=managed
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/serial_hlt.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/skip.sh"
kvm=1
if ! kvm_usable; then
    kvm=0
    echo "managed: no usable KVM ($KVM_WHY): the VMs run under rem"
    if [ -n "${CAPSULE_REQUIRE_KVM:-}" ] && [ "$CAPSULE_REQUIRE_KVM" != 0 ]; then
        echo "FAIL: managed: CAPSULE_REQUIRE_KVM=1 says this machine has KVM: $KVM_WHY"
        exit 1
    fi
fi
on_exit() { rm -rf ${fake:+"$fake"}; }

expect_state() {
    local got
    got=$(mr demo VMState)
    [ "$got" = "\"$1\"" ] && echo "ok   VMState $1${2:+ ($2)}" ||
        fail "VMState is $got, expected \"$1\"${2:+ ($2)}"
}
vm_pids() { pgrep -f -- "capsule-vm --startvm .*--home $CAPSULE_HOME( |\$)"; }

ok createvm --name demo --register
ok modifyvm demo --kernel "$PAYLOAD" --uart1 0x3f8 4 --uartmode1 file "$tmp/com1"

# start: the progress completes once the VM runs.
ok startvm demo --type headless
echo "$out" | grep -q 'has been successfully started' || fail "startvm said: $out"
expect_state running "after startvm"
[ "$(mr demo SessionState)" = '"locked"' ] || fail "SessionState: $(mr demo SessionState)"
vmpid=$(vm_pids | head -1)
[ -n "$vmpid" ] && [ "$(mr demo SessionPID)" = "$vmpid" ] ||
    fail "SessionPID $(mr demo SessionPID), capsule-vm pid '$vmpid'"
log=$(mr demo LogFldr | tr -d '"')/capsule-vm.log
grep -q 'the VM runs' "$log" 2>/dev/null || fail "no 'the VM runs' in $log"
if [ $kvm = 0 ]; then
    grep -q 'engine rem (asked: auto): hm is not usable here' "$log" 2>/dev/null &&
        echo "ok   auto runs the VM under rem without KVM" ||
        fail "no 'engine rem (asked: auto): hm is not usable here' in $log"
fi

# A second start of a running machine is refused at once.
run startvm demo
[ $rc -eq 1 ] && grep -q 'locked by another session\|already running' "$tmp/err" ||
    fail "second startvm: exit $rc: $err"

# controlvm from other processes.
ok controlvm demo pause
expect_state paused "after controlvm pause"
run controlvm demo pause
[ $rc -eq 1 ] && grep -q 'cannot pause a VM that is paused' "$tmp/err" ||
    fail "pause of a paused VM: exit $rc: $err"
ok controlvm demo resume
expect_state running "after controlvm resume"
ok controlvm demo reset
expect_state running "after controlvm reset"
ok waitfor demo --state running --timeout $((10 * S))

# waitfor is woken by the state event of a poweroff made by another client.
timeout $((60 * S)) "$CAP" waitfor demo --state poweroff --timeout $((30 * S)) >"$tmp/wout" 2>&1 &
waiter=$!
sleep 0.3
ok controlvm demo poweroff
wait $waiter && echo "ok   waitfor --state poweroff" ||
    fail "waitfor --state poweroff: $(cat "$tmp/wout")"
expect_state poweroff "after controlvm poweroff"
[ "$(mr demo SessionState)" = '"unlocked"' ] || fail "after poweroff: SessionState $(mr demo SessionState)"
for i in $(seq 1 $((100 * S))); do kill -0 "$vmpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$vmpid" 2>/dev/null && fail "capsule-vm (pid $vmpid) still runs after poweroff"
grep -qx 'capsule managed payload up' "$tmp/com1" && echo "ok   serial file content" ||
    fail "serial file: $(cat "$tmp/com1" 2>&1)"
run controlvm demo pause
[ $rc -eq 1 ] && grep -q '^capsule: error: ' "$tmp/err" || fail "controlvm after poweroff: $rc: $err"

# A kernel gone after modifyvm (which refuses a missing one): the VM
# process's message, the machine stays off.
cp "$PAYLOAD" "$tmp/missing.bin"
ok modifyvm demo --kernel "$tmp/missing.bin"
rm -f "$tmp/missing.bin"
run startvm demo --type headless
[ $rc -eq 1 ] && grep -q "^capsule: error: cannot read the kernel '$tmp/missing.bin'" "$tmp/err" &&
    echo "ok   startvm with a missing kernel fails clearly" ||
    fail "startvm with a missing kernel: exit $rc: $err"
expect_state poweroff "after the failed start"
[ "$(mr demo SessionState)" = '"unlocked"' ] || fail "after the failed start: SessionState $(mr demo SessionState)"

# SIGKILL of the VM process: the service marks the machine aborted.
ok modifyvm demo --kernel "$PAYLOAD"
ok startvm demo --type headless
vmpid=$(vm_pids | head -1)
[ -n "$vmpid" ] && kill -9 "$vmpid"
ok waitfor demo --state aborted --timeout $((10 * S))
expect_state aborted "after kill -9 of capsule-vm"
[ "$(mr demo SessionState)" = '"unlocked"' ] || fail "after the kill: SessionState $(mr demo SessionState)"
# ... and it starts again from aborted.
ok startvm demo --type headless
expect_state running "restarted after the abort"
ok controlvm demo poweroff
expect_state poweroff "final"
# The service dies under a running VM: the VM process notices, powers the
# VM off and exits, so that a restarted service (which believes the machine
# off) cannot start it a second time beside an orphan.
ok startvm demo --type headless
vmpid=$(vm_pids | head -1)
for pid in $(pgrep -f -- "capsule-svc .*$CAPSULE_HOME( |\$)"); do kill -9 "$pid"; done
for i in $(seq 1 $((100 * S))); do kill -0 "$vmpid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$vmpid" 2>/dev/null; then
    fail "capsule-vm (pid $vmpid) still runs $((5 * S)) s after the service was killed"
else
    grep -q "the connection to capsule-svc is gone" "$log" &&
        echo "ok   the VM process powers off when the service dies" ||
        fail "capsule-vm ended without saying why: $(tail -3 "$log")"
fi
ok startvm demo --type headless # a new service
expect_state running "started again under a new service"
ok controlvm demo poweroff
# Five starts so far: the log and three old ones (logHistoryCount 3).
logs=$(ls "$(dirname "$log")")
[ "$(echo $logs)" = "capsule-vm.log capsule-vm.log.1 capsule-vm.log.2 capsule-vm.log.3" ] &&
    echo "ok   VM process logs kept: $(echo $logs)" || fail "VM process logs: $(echo $logs)"
ls "$CAPSULE_HOME/logs/svc.log" >/dev/null || fail "no service log"

# A VM process that hangs before it reports its power-up: the service kills
# it after the launch timeout and startvm fails with that message. The
# programs are copied beside a fake capsule-vm that only sleeps (the
# service finds capsule-vm beside itself); a home of its own. Its sleep
# has a length of its own too (this shell's pid), so that the check for a
# survivor cannot see another test run's fake VM on a shared machine. The
# programs live in the build tree, not in /tmp, which may be noexec.
fake=$(mktemp -d "$B/tests/managed-fake.XXXXXX")
mkdir -p "$fake/bin"
cp "$CAP" "$B/bin/capsule-svc" "$fake/bin/" && ln -s "$B/lib" "$fake/lib"
hang="sleep 599.$$"
printf '#!/bin/sh\necho "fake capsule-vm: hanging before it registers"\nexec %s\n' "$hang" \
    >"$fake/bin/capsule-vm"
chmod +x "$fake/bin/capsule-vm"
(
    export CAPSULE_HOME=$tmp/home2 CAPSULE_SVC_LAUNCH_TIMEOUT=1500
    F=$fake/bin/capsule
    "$F" createvm --name hang --register >/dev/null && "$F" modifyvm hang --kernel "$PAYLOAD" ||
        { echo "FAIL: cannot set up the machine 'hang'"; exit 1; }
    t0=$(date +%s%N)
    timeout $((60 * S)) "$F" startvm hang --type headless >"$tmp/hout" 2>"$tmp/herr"
    hrc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    st=$("$F" showvminfo hang --machinereadable | sed -n 's/^VMState=//p')
    pgrep -fx -- "$hang" >/dev/null && echo "FAIL: the hung VM process still runs"
    "$F" showvminfo hang >/dev/null # the service is still serving
    [ $hrc -eq 1 ] && grep -q "did not report its power-up within 1500 ms and was killed" "$tmp/herr" &&
        grep -q "fake capsule-vm: hanging" "$tmp/herr" && [ "$st" = '"poweroff"' ] &&
        echo "ok   a VM process hung before registering is killed after the launch timeout ($ms ms)" ||
        echo "FAIL: hung VM process: exit $hrc, state $st, after $ms ms: $(cat "$tmp/herr")"
    for pid in $(pgrep -f -- "capsule-svc .*$tmp/home2( |\$)"); do kill -9 "$pid"; done
) >"$tmp/hang.log" 2>&1
cat "$tmp/hang.log"
grep -q '^FAIL' "$tmp/hang.log" && fails=$((fails + 1))

if [ $fails -ne 0 ]; then
    echo "managed: $fails failure(s)"
    echo "--- capsule-vm log:"; cat "$log" 2>/dev/null
    echo "--- service log (tail):"; tail -30 "$CAPSULE_HOME/logs/svc.log" 2>/dev/null
    exit 1
fi
echo "managed: all passed"
