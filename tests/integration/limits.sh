#!/bin/bash
# tests/integration/limits.sh - what a VM may take from the host (issue 19,
# items 3 and 10), in a temporary CAPSULE_HOME:
#   - guest RAM beyond the host's physical memory (MemTotal) is refused by
#     capsule-vm, with both sizes, unless forced (--force-memory, or
#     CAPSULE_FORCE_MEMORY=1 in its environment); what was mapped is logged
#     ("RAM N MiB mapped"); the managed flow refuses it the same way
#     (startvm fails with that message);
#   - the machine's capsule-vm.log is created 0600, as svc.log;
#   - the service log is rotated while the service runs once it passes
#     CAPSULE_SVC_LOG_MAX bytes (svc.log.1 .. .N, logHistoryCount), and the
#     new log says so.
# Payload hello.bin (tests/integration/vm): "hello" on COM1, debug-exit
# 0x2a (status 85). No KVM needed: the VMs run under rem. Every capsule-svc
# and capsule-vm started here is killed at the end.
set -u
NAME=limits
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/hello.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
VM=$B/bin/capsule-vm
unset CAPSULE_FORCE_MEMORY

host_mb=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
big=$((host_mb * 2))
# capsule-vm's --memory range (vmm/platform/platform_limits.h), as its help says
maxram=$("$VM" --help | sed -n 's/^  --memory MB .*default 64, [0-9]* to \([0-9]*\):.*/\1/p')
[ -n "$maxram" ] || { echo "FAIL: limits: capsule-vm --help names no --memory range"; exit 1; }
[ $big -le $maxram ] || big=$maxram
if [ $big -le $host_mb ]; then
    echo "limits: this host has $host_mb MiB, more than --memory can ask: the refusal is not tested"
    big=
fi

# vm [env...] -- [options]: capsule-vm standalone on hello.bin
vm() {
    timeout $((30 * S)) env "$@" "$VM" --kernel "$PAYLOAD" --engine rem --debug-exit \
        --serial "file:$tmp/com1" ${vmopts:-} >"$tmp/vm.out" 2>"$tmp/vm.err"
    rc=$?
}

vmopts="--memory 64" vm
[ $rc -eq 85 ] && grep -q 'em: RAM 64 MiB mapped (64 MiB below 4 GiB' "$tmp/vm.err" &&
    echo "ok   --memory 64: runs, the log says what was mapped" ||
    fail "--memory 64: status $rc: $(cat "$tmp/vm.err")"
if [ -n "$big" ]; then
    vmopts="--memory $big" vm
    [ $rc -eq 4 ] && grep -q "guest RAM of $big MiB is more than this host's physical memory ($host_mb MiB)" \
        "$tmp/vm.err" && grep -q "or forced (capsule-vm --force-memory" "$tmp/vm.err" &&
        echo "ok   --memory $big on a $host_mb MiB host: refused" ||
        fail "--memory $big on a $host_mb MiB host: status $rc (expected 4): $(tail -3 "$tmp/vm.err")"
    vmopts="--memory $big --force-memory" vm
    [ $rc -eq 85 ] && grep -q "em: RAM $big MiB mapped.*(more than the host has: forced)" "$tmp/vm.err" &&
        echo "ok   --memory $big --force-memory: runs, the log says what was mapped" ||
        fail "--memory $big --force-memory: status $rc: $(tail -3 "$tmp/vm.err")"
    vmopts="--memory $big" vm CAPSULE_FORCE_MEMORY=1
    [ $rc -eq 85 ] && grep -q "em: RAM $big MiB mapped" "$tmp/vm.err" &&
        echo "ok   --memory $big with CAPSULE_FORCE_MEMORY=1: runs" ||
        fail "--memory $big, CAPSULE_FORCE_MEMORY=1: status $rc: $(tail -3 "$tmp/vm.err")"
fi

# The managed flow, a service of its own whose log rotates past 2 KiB.
export CAPSULE_SVC_LOG_MAX=2048
run createvm --name demo --register && run modifyvm demo --kernel "$PAYLOAD" --engine rem ||
    fail "cannot set up the machine: $(cat "$tmp/err")"
log=$("$CAP" showvminfo demo --machinereadable | sed -n 's/^LogFldr="\(.*\)"$/\1/p')/capsule-vm.log
run startvm demo --type headless
[ $rc -eq 0 ] || fail "startvm: exit $rc: $(cat "$tmp/err")"
mode=$(stat -c %a "$log" 2>/dev/null)
[ "$mode" = 600 ] && echo "ok   capsule-vm.log is created 0600" ||
    fail "capsule-vm.log has mode '$mode', expected 600"
if [ -n "$big" ]; then
    run controlvm demo poweroff
    [ $rc -eq 0 ] || fail "controlvm poweroff: exit $rc: $(cat "$tmp/err")"
    run modifyvm demo --memory $big
    [ $rc -eq 0 ] || fail "modifyvm --memory $big: exit $rc: $(cat "$tmp/err")"
    run startvm demo --type headless
    # refused, saying how to lower or force it from the managed flow
    [ $rc -ne 0 ] && grep -q "more than this host's physical memory" "$tmp/err" &&
        grep -q "capsule modifyvm VM --memory MB) or forced" "$tmp/err" &&
        grep -q "for startvm, CAPSULE_FORCE_MEMORY=1 in capsule-svc's environment" "$tmp/err" &&
        echo "ok   startvm with $big MiB on a $host_mb MiB host: refused, saying how to fix it" ||
        fail "startvm with $big MiB: exit $rc: $(cat "$tmp/err" "$tmp/out")"
fi

# Each client connection is two lines of the service log: well past 2 KiB.
svclog=$CAPSULE_HOME/logs/svc.log
for i in $(seq 40); do "$CAP" list vms >/dev/null 2>&1; done
svcpid=$(svc_pid)
size=$(stat -c %s "$svclog" 2>/dev/null || echo 0)
[ -n "$svcpid" ] && [ -e "$svclog.1" ] && [ "$size" -le 3072 ] &&
    grep -q 'log rotated while running' "$svclog" &&
    echo "ok   the service log is rotated while the service runs (svc.log $size bytes, $(ls "$CAPSULE_HOME/logs" | tr '\n' ' '))" ||
    fail "service log while running (pid '${svcpid}'): svc.log $size bytes; $(ls -l "$CAPSULE_HOME/logs")"
[ ! -e "$svclog.4" ] || fail "more old service logs than logHistoryCount 3: $(ls "$CAPSULE_HOME/logs")"
mode=$(stat -c %a "$svclog" 2>/dev/null)
[ "$mode" = 600 ] || fail "svc.log has mode '$mode' after rotation, expected 600"

if [ $fails -ne 0 ]; then
    echo "limits: $fails failure(s)"
    echo "--- service log (tail):"; tail -20 "$svclog" 2>/dev/null
    exit 1
fi
echo "limits: all passed"
