#!/bin/bash
# tests/integration/cpu_profile.sh - CPU profiles end to end under the
# software CPU (engine rem; no /dev/kvm needed), with the payload
# cpuid_vendor.bin (tests/integration/vm: prints "cpuid: VENDOR BRAND" on
# COM1 from CPUID leaves 0 and 0x80000002-4):
#   capsule-vm --cpu-profile: each profile's vendor and brand as the guest
#   reads them, an unknown name -> usage error (status 2) listing the known
#   ones, --help documents it;
#   the managed flow: modifyvm --cpu-profile amd-epyc / intel-core, startvm
#   under rem, the guest's CPUID on the serial file, the VM log naming the
#   profile; the setting survives a SIGKILL and restart of the service;
#   a settings file naming a profile this build lacks leaves the machine
#   accessible, startvm fails clearly (exit 1, the known names) without
#   touching the file, and modifyvm --cpu-profile repairs it.
# Every capsule-svc and capsule-vm started here is killed at the end.
set -u
NAME=cpu_profile
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/cpuid_vendor.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
VM=$B/bin/capsule-vm
export CAPSULE_SVC_IDLE_TIMEOUT=60000

INTEL="cpuid: GenuineIntel Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz"
AMD="cpuid: AuthenticAMD AMD EPYC 7702 64-Core Processor"
HOSTVENDOR=$(sed -n 's/^vendor_id[[:space:]]*: *//p' /proc/cpuinfo | head -1)
[ "$HOSTVENDOR" = AuthenticAMD ] || HOSTVENDOR=GenuineIntel # cpum: Intel unless AMD

# ---- capsule-vm on its own ---------------------------------------------------
# vm_expect NAME STATUS PATTERN -- ARGS: status and a line of the output.
vm_expect() {
    local name=$1 want=$2 pat=$3 got
    shift 4
    timeout $((20 * S)) "$VM" "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" = "$want" ] && grep -qF -- "$pat" "$tmp/out"; then pass "capsule-vm $name"
    else fail "capsule-vm $name: status $got (want $want), no '$pat':"; sed 's/^/    /' "$tmp/out"; fi
}
run_vm() { vm_expect "$1" "$2" "$3" -- --kernel "$PAYLOAD" --engine rem --debug-exit "${@:4}"; }
run_vm "default profile" 85 "cpuid: $HOSTVENDOR "
run_vm "--cpu-profile host" 85 "cpuid: $HOSTVENDOR " --cpu-profile host
run_vm "--cpu-profile intel-core" 85 "$INTEL" --cpu-profile intel-core
grep -q "^capsule-vm: CPU profile intel-core: GenuineIntel, Intel(R) Core(TM) i7-6700K" "$tmp/out" ||
    fail "capsule-vm does not log the profile: $(cat "$tmp/out")"
run_vm "--cpu-profile amd-epyc" 85 "$AMD" --cpu-profile amd-epyc
run_vm "--cpu-profile=amd-epyc" 85 "$AMD" --cpu-profile=amd-epyc
run_vm "unknown profile" 2 \
    "capsule-vm: --cpu-profile 'pentium': unknown CPU profile (known: host, intel-core, amd-epyc)" \
    --cpu-profile pentium
grep -q "^cpuid:" "$tmp/out" && fail "a VM ran with an unknown profile"
run_vm "empty profile" 2 "--cpu-profile '': unknown CPU profile" --cpu-profile ""
vm_expect "--help" 0 "--cpu-profile NAME" -- --help

# ---- the managed flow ------------------------------------------------------------
# start_and_read PREFIX: starts demo, waits for the payload's line on the
# serial file, checks that it starts with PREFIX, powers the VM off.
start_and_read() {
    rm -f "$tmp/com1"
    ok startvm demo --type headless
    local i
    for i in $(seq 1 $((100 * S))); do
        grep -q '^cpuid: ' "$tmp/com1" 2>/dev/null && break
        sleep 0.1
    done
    local line
    line=$(head -1 "$tmp/com1" 2>/dev/null)
    [[ "$line" == "$1"* ]] && pass "the guest sees: $line" ||
        fail "serial file: [$(cat "$tmp/com1" 2>&1)], want [$1...]"
    ok controlvm demo poweroff
}

ok createvm --name demo --register
cfg=$(sed -n "s/^Settings file: '\(.*\)'$/\1/p" "$tmp/out")
ok modifyvm demo --engine rem --kernel "$PAYLOAD" --uart1 0x3f8 4 --uartmode1 file "$tmp/com1" \
    --cpu-profile amd-epyc
[ "$(mr demo cpu-profile)" = '"amd-epyc"' ] || fail "cpu-profile is $(mr demo cpu-profile)"
start_and_read "$AMD"
log=$(mr demo LogFldr | tr -d '"')/capsule-vm.log
grep -q "^capsule-vm: CPU profile amd-epyc: AuthenticAMD" "$log" ||
    fail "the VM log does not name the profile: $(head -5 "$log")"

ok modifyvm demo --cpu-profile Intel-Core
[ "$(mr demo cpu-profile)" = '"intel-core"' ] || fail "cpu-profile is $(mr demo cpu-profile)"
# The service dies; the next call starts a new one, which reads the file.
pid=$(svc_pid)
kill_svc "$pid"
[ "$(mr demo cpu-profile)" = '"intel-core"' ] && [ "$(svc_pid)" != "$pid" ] &&
    pass "cpu-profile intel-core kept across a service restart" ||
    fail "after the service restart: cpu-profile $(mr demo cpu-profile)"
start_and_read "$INTEL"

# A file naming a profile this build lacks (another build wrote it).
sed -i 's/cpuProfile="intel-core"/cpuProfile="zen9-future"/' "$cfg"
grep -q 'cpuProfile="zen9-future"' "$cfg" || fail "could not edit $cfg"
cp "$cfg" "$tmp/edited.capsule"
ok list vms
grep -q '^"demo" {' "$tmp/out" && pass "a machine with an unknown profile stays accessible" ||
    fail "list vms: $out"
[ "$(mr demo cpu-profile)" = '"zen9-future"' ] || fail "cpu-profile is $(mr demo cpu-profile)"
run startvm demo --type headless
[ $rc -eq 1 ] &&
    grep -qF "the machine's CPU profile 'zen9-future' is unknown to this build (known: host, intel-core, amd-epyc" "$tmp/err" &&
    pass "startvm with an unknown profile fails clearly" ||
    fail "startvm with an unknown profile: exit $rc: $err"
[ "$(mr demo VMState)" = '"poweroff"' ] && [ "$(mr demo SessionState)" = '"unlocked"' ] ||
    fail "after the failed start: $(mr demo VMState) $(mr demo SessionState)"
# (the service records the time the machine came to rest again, nothing more)
diff <(grep -v lastStateChange "$tmp/edited.capsule") <(grep -v lastStateChange "$cfg") >"$tmp/diff" &&
    pass "the settings are left as they were" || fail "the failed start changed $cfg: $(cat "$tmp/diff")"
# Other changes keep the name; choosing a profile repairs the machine.
ok modifyvm demo --memory 32
grep -q 'cpuProfile="zen9-future"' "$cfg" || fail "modifyvm --memory lost the profile name"
ok modifyvm demo --cpu-profile host
grep -q 'cpuProfile' "$cfg" && fail "the default profile is written: $(grep Hardware "$cfg")"
start_and_read "cpuid: $HOSTVENDOR "

# Usage errors: exit 2, nothing changed.
run modifyvm demo --cpu-profile pentium --memory 48
[ $rc -eq 2 ] &&
    grep -qF "unknown CPU profile 'pentium' (known: host, intel-core, amd-epyc" "$tmp/err" &&
    grep -q "^Try 'capsule help modifyvm'" "$tmp/err" &&
    pass "modifyvm --cpu-profile pentium: usage error" ||
    fail "modifyvm --cpu-profile pentium: exit $rc: $err"
[ "$(mr demo memory)" = 32 ] || fail "a refused modifyvm changed memory to $(mr demo memory)"

if [ $fails -ne 0 ]; then
    echo "cpu_profile: $fails failure(s)"
    echo "--- capsule-vm log:"; cat "$log" 2>/dev/null
    exit 1
fi
echo "cpu_profile: all passed"
