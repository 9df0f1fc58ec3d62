#!/bin/bash
# tests/integration/cli.sh - the capsule CLI against the real capsule-svc, as
# scripts and people use it, each part in its own temporary CAPSULE_HOME:
#   the subcommands' structure (argument tables, one lock chain, in the
#   sources); usage errors (exit 2) and help generated from the tables,
#   `help help`; create/modify/show/list/unregister/delete; a failed
#   createvm leaving nothing behind; modifyvm's limits taken from list
#   systemproperties, memory beyond the host's a warning, --uart2..4 and
#   --debugexit; list vms --long; list hostinfo's time in ISO 8601; the OS
#   type's description in showvminfo;
#   CPU profiles (list cpuprofiles, modifyvm --cpu-profile with an unknown
#   name as a usage error, showvminfo, kept across a service restart);
#   extra data; unknown VM (exit 1 with the service's message); startvm and
#   controlvm failing cleanly without a VM process; waitfor with a timeout;
#   two clients at once (and racing first clients starting one service);
#   the service killed with SIGKILL mid-session and restarted by the next
#   call with every machine still there; a corrupted machine file listed
#   inaccessible with its reason, left untouched, then repaired; a client of
#   another uid refused; a client holding many objects, killed with SIGKILL
#   (idle, and blocked in a call) or exiting cleanly, leaving no handle
#   behind in the service (ICapsule's objectHandleCount back at its
#   baseline); 20 clients x 500 rounds with no error and no growth of the
#   service's memory.
# Every capsule-svc started here is killed at the end. Time limits only
# bound a hang, and scale with CAPSULE_TIMEOUT_SCALE.
set -u
NAME=cli
NEED="${CAPSULE_BUILD:-}/tests/loadclient ${CAPSULE_BUILD:-}/tests/holdclient"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/skip.sh"
LOAD=$B/tests/loadclient
HOLD=$B/tests/holdclient
# The service must not go idle between the steps of a part.
export CAPSULE_SVC_IDLE_TIMEOUT=60000

src=$(cd "$(dirname "$0")/../../plugins/frontends/manage" && pwd)
bad=$(grep -nE 'cli_next|cli_parser_init|ICapsule_FindMachine|IMachine_LockMachine|cli_session_create|\brc (<|>=|==) 0\b' "$src"/cmd_*.c)
[ -z "$bad" ] || fail "a subcommand parses, finds or locks by itself (or tests rc against 0): $bad"

# ---- usage errors, help, version (no service needed) ----------------------
newhome
usage_case() {
    run "$@"
    [ $rc -eq 2 ] || fail "capsule $* exited $rc, want 2 (usage error)"
    grep -q "^Try 'capsule" "$tmp/err" || fail "capsule $*: no hint line: $err"
    [ -z "$out" ] || fail "capsule $*: usage error wrote to stdout: $out"
}
usage_case
usage_case frob
usage_case list
usage_case list bogus
usage_case createvm
usage_case createvm --name
usage_case createvm --name x --bogus
usage_case modifyvm
usage_case modifyvm demo
usage_case modifyvm demo --memory 12Q
usage_case modifyvm demo --memory 0
usage_case modifyvm demo --cpus many
usage_case modifyvm demo --engine kvm
usage_case modifyvm demo --cpu-profile
usage_case modifyvm demo --cpu-profile ""
usage_case modifyvm demo --uart1 0x3f8
usage_case modifyvm demo --uart1 0x3f8 16
usage_case modifyvm demo --uartmode1 tcp 1234
usage_case modifyvm demo --uartmode1 file
usage_case showvminfo
usage_case showvminfo a b
usage_case controlvm demo
usage_case controlvm demo explode
usage_case waitfor demo
usage_case waitfor demo --state sleeping
usage_case waitfor demo --state running --timeout soon
usage_case getextradata demo
usage_case setextradata demo
usage_case unregistervm
usage_case registervm
usage_case help nosuchcommand
usage_case help help extra
usage_case list vms --bogus
usage_case list --long
usage_case modifyvm demo --cpus 0
usage_case modifyvm demo --debugexit maybe
usage_case modifyvm demo --uart2 0x2f8
usage_case modifyvm demo --uart5 0x2e8 3
usage_case modifyvm demo --uartmode4 file
usage_case modifyvm demo --uartmode3 server ""
[ -z "$(svc_pid)" ] || fail "usage errors started a service"
ok --version
[[ "$out" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "--version printed [$out]"
ok --help
cp "$tmp/out" "$tmp/help"
for c in list showvminfo createvm registervm unregistervm modifyvm startvm controlvm \
    getextradata setextradata waitfor console help; do
    grep -q "^  $c " "$tmp/help" || fail "--help does not list $c"
    ok help "$c"
    grep -q "^capsule $c" "$tmp/out" || fail "help $c lacks its synopsis"
    ok "$c" --help
    grep -q "^capsule $c" "$tmp/out" || fail "$c --help lacks its synopsis"
done
ok modifyvm --help
grep -q -- "--cpu-profile NAME" "$tmp/out" || fail "modifyvm --help lacks --cpu-profile"
# The help is generated from the option table: every option has its line.
for o in --memory --cpus --engine --kernel --initrd --cmdline --debugexit --uart1 --uartmode1 \
    --uart2 --uartmode2 --uart3 --uartmode3 --uart4 --uartmode4 --description --name --ostype; do
    grep -q -- "^  $o " "$tmp/out" || fail "modifyvm --help has no line for $o: $out"
done
# help is a command like the others (VBoxManage's `help help`).
ok help help
grep -q '^capsule help \[COMMAND\]$' "$tmp/out" || fail "help help: [$out]"
ok help --help
grep -q '^capsule help ' "$tmp/out" || fail "help --help: [$out]"
ok list --help
grep -q "cpuprofiles" "$tmp/out" || fail "list --help lacks cpuprofiles"
grep -q -- "--long" "$tmp/out" || fail "list --help lacks --long"

# ---- create / modify / show / list / unregister / delete ------------------
newhome
ok createvm --name demo --register
grep -q "^Virtual machine 'demo' is created and registered.$" "$tmp/out" || fail "createvm output: $out"
uuid=$(sed -n 's/^UUID: //p' "$tmp/out")
cfg=$(sed -n "s/^Settings file: '\(.*\)'$/\1/p" "$tmp/out")
[[ "$uuid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || fail "createvm UUID [$uuid]"
[ -f "$cfg" ] || fail "settings file [$cfg] not written"
[ -n "$(svc_pid)" ] || fail "no service running after createvm"
ok list vms
[ "$out" = "\"demo\" {$uuid}" ] || fail "list vms: [$out]"
expect_mr demo name '"demo"'
expect_mr demo UUID "\"$uuid\""
expect_mr demo CfgFile "\"$cfg\""
expect_mr demo VMState '"poweroff"'
expect_mr "$uuid" name '"demo"'
expect_mr "{$uuid}" name '"demo"'

desc=$'multi "quoted"\nline \\ back'
(cd "$tmp" && touch initrd.img k &&
    "$CAP" modifyvm demo --memory 256 --cpus 1 --engine rem --kernel "$tmp/k" \
        --initrd initrd.img --cmdline "console=ttyS0 quiet" --uart1 0x3f8 4 \
        --uartmode1 file "$tmp/serial.log" --description "$desc") >"$tmp/out" 2>"$tmp/err" ||
    fail "modifyvm exited $?: $(cat "$tmp/err")"
expect_mr demo memory 256
expect_mr demo cpus 1
expect_mr demo engine '"rem"'
expect_mr demo kernel "\"$tmp/k\""
expect_mr demo initrd "\"$tmp/initrd.img\""
expect_mr demo cmdline '"console=ttyS0 quiet"'
expect_mr demo uart1 '"0x03f8,4"'
expect_mr demo uartmode1 "\"file,$tmp/serial.log\""
expect_mr demo description '"multi \"quoted\"\nline \\ back"'
# Every line is key=value with numbers unquoted and strings quoted.
"$CAP" showvminfo demo --machinereadable >"$tmp/mr"
bad=$(grep -vE '^[A-Za-z0-9_.-]+=("([^"\\]|\\.)*"|-?[0-9]+)$' "$tmp/mr")
[ -z "$bad" ] || fail "machinereadable lines not key=value: $bad"
for k in name UUID CfgFile memory cpus cpu-profile engine VMState description ostype kernel initrd cmdline uart1 uartmode1; do
    grep -q "^$k=" "$tmp/mr" || fail "machinereadable lacks $k"
done
ok showvminfo demo
grep -q '^Name:            demo$' "$tmp/out" || fail "showvminfo: no 'Name:            demo' line: $out"
grep -q '^Memory size:     256MB$' "$tmp/out" || fail "showvminfo: memory line"
grep -q '^UUID:            '"$uuid"'$' "$tmp/out" || fail "showvminfo: UUID line"
grep -q '^State:           powered off' "$tmp/out" || fail "showvminfo: state line"
# The OS type for people is its description, as VBoxManage shows it (the
# service's, from list ostypes); for scripts it stays the ID.
ostype_desc() {
    "$CAP" list ostypes | awk -v id="$1" '$1 == "ID:" { f = ($2 == id) } f && /^Description: / { sub(/^Description: +/, ""); print; exit }'
}
want=$(ostype_desc Other)
[ -n "$want" ] && grep -qxF "Guest OS:        $want" "$tmp/out" || fail "showvminfo: Guest OS is not [$want]: $out"
expect_mr demo ostype '"Other"'
ok modifyvm demo --ostype Linux_64
want=$(ostype_desc Linux_64)
ok showvminfo demo
[ -n "$want" ] && grep -qxF "Guest OS:        $want" "$tmp/out" || fail "showvminfo: Guest OS is not [$want]: $out"
expect_mr demo ostype '"Linux_64"'
ok modifyvm demo --ostype Other
# list ostypes as VBoxManage prints it: each block names its family by ID
# and for people (Family Desc:).
ok list ostypes
grep -A3 -x 'ID:          Linux_64' "$tmp/out" | grep -qx 'Family Desc: Linux' &&
    [ "$(grep -c '^Family Desc: ' "$tmp/out")" -eq "$(grep -c '^ID: ' "$tmp/out")" ] &&
    echo "ok   list ostypes: Family Desc: in every block" || fail "list ostypes: [$out]"

ok modifyvm demo --memory 1G --uart1 off --uartmode1 server "$tmp/s.sock"
expect_mr demo memory 1024
expect_mr demo uart1 '"off"'
expect_mr demo uartmode1 "\"server,$tmp/s.sock\""
ok modifyvm demo --uartmode1 disconnected --engine auto
expect_mr demo uartmode1 '"disconnected"'
expect_mr demo engine '"auto"'
# A value the service refuses: exit 1, its message, nothing saved.
run modifyvm demo --ostype NoSuchOS --memory 512
[ $rc -eq 1 ] || fail "modifyvm --ostype NoSuchOS exited $rc, want 1"
grep -q '^capsule: error: ' "$tmp/err" && grep -q 'details: code CAP_E_' "$tmp/err" ||
    fail "modifyvm --ostype NoSuchOS: error format: $err"
expect_mr demo memory 1024

# The CLI's limits are the service's (list systemproperties), not its own:
# one beyond them is a usage error naming the range, and nothing is saved.
ok list systemproperties
maxram=$(sed -n 's/^Maximum guest RAM size: *\([0-9]*\) Megabytes$/\1/p' "$tmp/out")
minram=$(sed -n 's/^Minimum guest RAM size: *\([0-9]*\) Megabytes$/\1/p' "$tmp/out")
maxcpu=$(sed -n 's/^Maximum guest CPU count: *\([0-9]*\)$/\1/p' "$tmp/out")
mincpu=$(sed -n 's/^Minimum guest CPU count: *\([0-9]*\)$/\1/p' "$tmp/out")
[ -n "$maxram" ] && [ -n "$maxcpu" ] || fail "list systemproperties: no limits: [$out]"
# (--cpus beyond the maximum: the service refuses, saying why; below the
# minimum the published range is a usage error)
run modifyvm demo --cpus $((maxcpu + 1)) --memory 512
[ $rc -eq 1 ] && grep -q "^capsule: error: .*CPU count $((maxcpu + 1)) is more than $maxcpu: " "$tmp/err" ||
    fail "modifyvm --cpus $((maxcpu + 1)): exit $rc: $err"
[ "$mincpu" -ge 1 ] || fail "minimum CPU count $mincpu"
run modifyvm demo --memory $((maxram + 1)) --cpus 1
[ $rc -eq 2 ] && grep -q "^capsule: error: modifyvm: --memory: '$((maxram + 1))' is out of range ($minram MB to $maxram MB)$" "$tmp/err" ||
    fail "modifyvm --memory $((maxram + 1)): exit $rc: $err"
expect_mr demo memory 1024
# More memory than the host has: a warning on stderr (VBoxManage's way),
# exit 0, the value kept; within the host's memory no warning.
hostmb=$("$CAP" list hostinfo | sed -n 's/^Memory size: \([0-9]*\) MByte$/\1/p')
if [ -n "$hostmb" ] && [ $((hostmb + 1024)) -le "$maxram" ]; then
    run modifyvm demo --memory $((hostmb + 1024))
    if [ $rc -eq 0 ]; then
        grep -q "^capsule: warning: --memory: $((hostmb + 1024)) MB is more than the host's physical memory ($hostmb MB)" "$tmp/err" ||
            fail "modifyvm --memory beyond the host: no warning: [$err]"
        [ -z "$out" ] || fail "modifyvm --memory beyond the host wrote to stdout: $out"
        expect_mr demo memory $((hostmb + 1024))
    else
        # The service may refuse it outright (the stronger form of the warning).
        [ $rc -eq 1 ] && grep -q '^capsule: error: .*memory' "$tmp/err" ||
            fail "modifyvm --memory beyond the host: exit $rc: $err"
    fi
    run modifyvm demo --memory 1024
    [ $rc -eq 0 ] && [ -z "$err" ] || fail "modifyvm --memory 1024: exit $rc, stderr [$err]"
else
    test_skip "cli (memory beyond the host)" "host memory [$hostmb] MB + 1 GB exceeds maxGuestRAM [$maxram]"
fi

# Serial ports 2 to 4 and the debug-exit port, as showvminfo prints them.
ok modifyvm demo --uart2 0x2f8 3 --uartmode2 file "$tmp/com2.log" --uart4 0x2e8 3 \
    --uartmode4 server "$tmp/com4.sock" --debugexit on
expect_mr demo uart2 '"0x02f8,3"'
expect_mr demo uartmode2 "\"file,$tmp/com2.log\""
expect_mr demo uart3 '"off"'
expect_mr demo uart4 '"0x02e8,3"'
expect_mr demo uartmode4 "\"server,$tmp/com4.sock\""
expect_mr demo debugexit '"on"'
expect_mr demo uart1 '"off"'
ok showvminfo demo
grep -q "^UART 2:          I/O base: 0x02f8, IRQ: 3, attached to file '$tmp/com2.log'$" "$tmp/out" ||
    fail "showvminfo: UART 2 line: $out"
grep -q '^Debug exit:      enabled$' "$tmp/out" || fail "showvminfo: debug exit line: $out"
# The service checks the ports against each other: an overlap fails, nothing saved.
run modifyvm demo --uart3 0x2f8 4
[ $rc -eq 1 ] || fail "modifyvm --uart3 on uart2's base exited $rc, want 1"
expect_mr demo uart3 '"off"'
ok modifyvm demo --uart2 off --uartmode2 disconnected --uart4 off --uartmode4 disconnected \
    --debugexit off
expect_mr demo uart2 '"off"'
expect_mr demo uartmode4 '"disconnected"'
expect_mr demo debugexit '"off"'

# CPU profiles: the service's list, one block per profile, the default first.
expect_mr demo cpu-profile '"host"'
ok list cpuprofiles
[ "$(grep -c '^Name:        ' "$tmp/out")" -eq 3 ] || fail "list cpuprofiles: [$out]"
[ "$(head -1 "$tmp/out")" = "Name:        host" ] || fail "list cpuprofiles: host is not first: [$out]"
grep -A1 '^Name:        amd-epyc$' "$tmp/out" | grep -q '^Vendor:      AuthenticAMD$' ||
    fail "list cpuprofiles: no amd-epyc block with its vendor: [$out]"
grep -A2 '^Name:        intel-core$' "$tmp/out" | grep -q '^Description: Intel ' ||
    fail "list cpuprofiles: no intel-core block with a description: [$out]"
[ "$(grep -c '^Brand:       ' "$tmp/out")" -eq 3 ] || fail "list cpuprofiles: Brand lines: [$out]"
ok modifyvm demo --cpu-profile amd-epyc
expect_mr demo cpu-profile '"amd-epyc"'
ok showvminfo demo
grep -q '^CPU profile:     amd-epyc$' "$tmp/out" || fail "showvminfo: no 'CPU profile:     amd-epyc' line: $out"
ok modifyvm demo --cpu-profile INTEL-CORE
expect_mr demo cpu-profile '"intel-core"'
# An unknown name: a usage error (exit 2) listing the known ones; nothing saved.
run modifyvm demo --cpu-profile pentium --memory 512
[ $rc -eq 2 ] || fail "modifyvm --cpu-profile pentium exited $rc, want 2"
grep -q "^capsule: error: modifyvm: --cpu-profile: unknown CPU profile 'pentium' (known: host, intel-core, amd-epyc" "$tmp/err" &&
    grep -q "^Try 'capsule help modifyvm'" "$tmp/err" || fail "modifyvm --cpu-profile pentium: $err"
[ -z "$out" ] || fail "modifyvm --cpu-profile pentium wrote to stdout: $out"
expect_mr demo memory 1024
expect_mr demo cpu-profile '"intel-core"'
# Kept across a restart of the service (the file has it).
grep -q 'cpuProfile="intel-core"' "$cfg" || fail "the settings file lacks cpuProfile: $(grep Hardware "$cfg")"
kill_svc "$(svc_pid)"
expect_mr demo cpu-profile '"intel-core"'
ok modifyvm demo --cpu-profile host
expect_mr demo cpu-profile '"host"'

# The graphics controller: vga by default (left out of the file), none
# saved and shown; VirtualBox's other controllers and unknown words are
# usage errors (exit 2) naming what this build has, nothing saved.
expect_mr demo graphicscontroller '"vga"'
grep -q '<Display' "$cfg" && fail "the default graphics controller is in the file: $(grep Display "$cfg")"
ok modifyvm demo --graphicscontroller none
expect_mr demo graphicscontroller '"none"'
grep -q '<Display controller="None"/>' "$cfg" || fail "the settings file lacks <Display controller=\"None\"/>"
ok showvminfo demo
grep -q '^Graphics Controller: none$' "$tmp/out" || fail "showvminfo: no 'Graphics Controller: none' line: $out"
for g in vmsvga VBoxVGA vboxsvga; do
    run modifyvm demo --graphicscontroller $g --memory 512
    [ $rc -eq 2 ] || fail "modifyvm --graphicscontroller $g exited $rc, want 2"
    grep -q "^capsule: error: modifyvm: --graphicscontroller: '$g' is not in this build; it has vga (a standard VGA with Bochs VBE) or none" "$tmp/err" ||
        fail "modifyvm --graphicscontroller $g: $err"
done
run modifyvm demo --graphicscontroller cirrus
[ $rc -eq 2 ] && grep -q "unknown graphics controller 'cirrus' (vga or none)" "$tmp/err" ||
    fail "modifyvm --graphicscontroller cirrus exited $rc: $err"
usage_case modifyvm demo --graphicscontroller
expect_mr demo memory 1024
expect_mr demo graphicscontroller '"none"'
ok modifyvm demo --graphicscontroller VGA
expect_mr demo graphicscontroller '"vga"'
grep -q '<Display' "$cfg" && fail "--graphicscontroller vga left <Display> in the file"
ok help modifyvm
grep -q -- "--graphicscontroller G  *the graphics device, vga or none" "$tmp/out" ||
    fail "help modifyvm lacks --graphicscontroller: $out"

run createvm --name demo --register
[ $rc -eq 1 ] || fail "duplicate createvm exited $rc, want 1"
grep -q '^capsule: error: ' "$tmp/err" || fail "duplicate createvm message: $err"
# ... and leaves nothing behind, also in another folder: a retry there,
# once the name is free, is not in the way of a stale file.
mkdir "$tmp/dup"
run createvm --name demo --basefolder "$tmp/dup" --register
[ $rc -eq 1 ] && grep -q 'already registered' "$tmp/err" || fail "duplicate createvm --basefolder: exit $rc: $err"
[ -z "$(ls -A "$tmp/dup")" ] || fail "a failed createvm left $(find "$tmp/dup" -mindepth 1)"
ok createvm --name demo2 --basefolder "$tmp/dup"
ok registervm "$tmp/dup/demo2/demo2.capsule"
ok unregistervm demo2 --delete
[ -z "$(ls -A "$tmp/dup")" ] || fail "unregistervm --delete left $(find "$tmp/dup" -mindepth 1)"

# --basefolder, unregistered until registervm.
mkdir "$tmp/base"
ok createvm --name other --basefolder "$tmp/base"
grep -q "^Virtual machine 'other' is created.$" "$tmp/out" || fail "createvm (unregistered): $out"
ocfg=$(sed -n "s/^Settings file: '\(.*\)'$/\1/p" "$tmp/out")
[[ "$ocfg" == "$tmp/base/"* && -f "$ocfg" ]] || fail "--basefolder ignored: [$ocfg]"
ok list vms
grep -q '"other"' "$tmp/out" && fail "unregistered machine listed"
ok registervm "$ocfg"
ok list vms
[ "$(echo "$out" | wc -l)" -eq 2 ] && grep -q '^"other" {' "$tmp/out" || fail "registervm: list is [$out]"

# list vms --long: each machine as showvminfo prints it, separated by an
# empty line (VBoxManage's `list -l vms`); -l is the same.
ok list vms --long
[ "$(grep -c '^Name:  ' "$tmp/out")" -eq 2 ] || fail "list vms --long: not two machines: [$out]"
grep -q '^Name:            demo$' "$tmp/out" && grep -q '^Name:            other$' "$tmp/out" ||
    fail "list vms --long: names: [$out]"
grep -q "^UUID:            $uuid$" "$tmp/out" || fail "list vms --long: no UUID line: [$out]"
[ "$(grep -c '^$' "$tmp/out")" -eq 1 ] || fail "list vms --long: want one separating empty line: [$out]"
"$CAP" showvminfo demo >"$tmp/one"
awk 'BEGIN { RS = "" } /^Name: +demo\n/ { print }' "$tmp/out" | cmp -s - "$tmp/one" ||
    fail "list vms --long: demo's block differs from showvminfo: [$out]"
"$CAP" list -l vms >"$tmp/out2" && cmp -s "$tmp/out" "$tmp/out2" || fail "list -l vms differs from --long"
ok list runningvms --long
[ -z "$out" ] || fail "list runningvms --long with nothing running: [$out]"
# list hostinfo: the host's time in ISO 8601 (UTC), and the right one.
ok list hostinfo
ht=$(sed -n 's/^Host time: //p' "$tmp/out")
[[ "$ht" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$ ]] || fail "hostinfo: Host time [$ht]"
hs=$(date -u -d "${ht%%.*}" +%s 2>/dev/null)
[ -n "$hs" ] && [ $(($(date -u +%s) - hs)) -le 60 ] && [ $(($(date -u +%s) - hs)) -ge -60 ] ||
    fail "hostinfo: Host time [$ht] is not now ($(date -u +%FT%T))"

# Extra data, per machine and global.
ok setextradata demo my/key "some value"
ok getextradata demo my/key
[ "$out" = "Value: some value" ] || fail "getextradata: [$out]"
ok setextradata global g1 v1
ok getextradata global g1
[ "$out" = "Value: v1" ] || fail "getextradata global: [$out]"
ok getextradata global enumerate
grep -q '^Key: g1, Value: v1$' "$tmp/out" || fail "enumerate global: [$out]"
ok setextradata demo my/key
ok getextradata demo my/key
[ "$out" = "No value set!" ] || fail "removed extra data: [$out]"

# Unknown VM: exit 1 with the service's message naming it.
run showvminfo nosuchvm
[ $rc -eq 1 ] || fail "showvminfo nosuchvm exited $rc, want 1"
grep -q '^capsule: error: .*nosuchvm' "$tmp/err" && grep -q 'CAP_E_OBJECT_NOT_FOUND' "$tmp/err" ||
    fail "unknown VM message: $err"
for c in "modifyvm nosuchvm --cpus 1" "unregistervm nosuchvm" "startvm nosuchvm" \
    "controlvm nosuchvm pause" "getextradata nosuchvm k" "waitfor nosuchvm --state running"; do
    run $c
    [ $rc -eq 1 ] && grep -q 'CAP_E_OBJECT_NOT_FOUND' "$tmp/err" || fail "capsule $c: exit $rc: $err"
done

# controlvm fails cleanly without a VM process (exit 1, the service's
# message); startvm of a machine whose kernel ($tmp/k) is gone since modifyvm
# (which refuses a missing one) fails with the VM process's message and
# leaves the machine off and unlocked.
# The managed flow that runs a VM is tests/integration/managed.sh.
run controlvm demo pause
[ $rc -eq 1 ] && grep -q '^capsule: error: ' "$tmp/err" || fail "controlvm pause: exit $rc: $err"
run controlvm demo poweroff
[ $rc -eq 1 ] || fail "controlvm poweroff of a stopped VM exited $rc"
rm -f "$tmp/k"
run startvm demo --type headless
[ $rc -eq 1 ] && grep -q "^capsule: error: cannot read the kernel '$tmp/k'" "$tmp/err" ||
    fail "startvm without a kernel file: exit $rc: $err"
[ "$(mr demo VMState)" = '"poweroff"' ] && [ "$(mr demo SessionState)" = '"unlocked"' ] ||
    fail "after a failed startvm: $(mr demo VMState) $(mr demo SessionState)"

# waitfor: a state already reached returns at once; one never reached times out.
start=$(date +%s%N)
ok waitfor demo --state poweroff --timeout 5
run waitfor demo --state running --timeout 1
el=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] && grep -q 'timed out' "$tmp/err" || fail "waitfor timeout: exit $rc: $err"
[ $el -ge 1000 ] && [ $el -lt $((6000 * S)) ] || fail "waitfor with --timeout 1 took $el ms"

# unregister keeps the files; --delete removes them.
ok unregistervm other
[ -f "$ocfg" ] || fail "unregistervm deleted the settings file"
ok registervm "$ocfg"
ok unregistervm other --delete
[ -e "$ocfg" ] && fail "unregistervm --delete left $ocfg"
ok list vms
[ "$out" = "\"demo\" {$uuid}" ] || fail "after delete, list vms: [$out]"

# ---- two clients at once ----------------------------------------------------
newhome
# Racing first clients start exactly one service.
for i in 1 2 3 4; do "$CAP" createvm --name "race$i" --register >/dev/null 2>"$tmp/race$i.err" & done
wait
for i in 1 2 3 4; do [ -s "$tmp/race$i.err" ] && fail "racing createvm $i: $(cat "$tmp/race$i.err")"; done
n=$(svc_count)
[ "$n" -eq 1 ] || fail "racing clients started $n services"
ok list vms
[ "$(echo "$out" | wc -l)" -eq 4 ] || fail "racing createvm: list is [$out]"
# Two clients changing two machines while a third lists.
client_loop() {
    local vm=$1 i
    for i in $(seq 1 15); do
        "$CAP" modifyvm "$vm" --memory $((64 + i)) --cmdline "iter $i" 2>>"$tmp/two.err" ||
            echo "modifyvm $vm $i failed" >>"$tmp/two.err"
        "$CAP" list vms >/dev/null 2>>"$tmp/two.err" || echo "list failed" >>"$tmp/two.err"
    done
}
client_loop race1 & client_loop race2 & wait
[ -s "$tmp/two.err" ] && fail "two clients: $(cat "$tmp/two.err")"
expect_mr race1 memory 79
expect_mr race2 cmdline '"iter 15"'

# ---- SIGKILL of the service mid-session ---------------------------------------
pid=$(svc_pid)
"$CAP" waitfor race1 --state running --timeout 60 >/dev/null 2>"$tmp/wait.err" &
wpid=$!
# Kill the service once waitfor is its client (were it killed first, waitfor
# would start a new service and wait there): a fresh client sees two.
for i in $(seq 1 $((100 * S))); do
    line=$("$HOLD" counts 2>/dev/null)
    [ "$(sed -n 's/^clients \([0-9]*\) .*/\1/p' <<<"$line")" = 2 ] && break
    sleep 0.05
done
sleep 0.2 # from connected to blocked in the call
start=$(date +%s%N)
kill_svc "$pid"
wait $wpid
wrc=$?
el=$((($(date +%s%N) - start) / 1000000))
[ $wrc -eq 1 ] || fail "waitfor after SIGKILL of the service exited $wrc, want 1"
grep -q '^capsule: error: ' "$tmp/wait.err" || fail "waitfor after SIGKILL: $(cat "$tmp/wait.err")"
[ $el -lt $((5000 * S)) ] || fail "waitfor took $el ms to notice the dead service"
ok list vms
[ "$(echo "$out" | wc -l)" -eq 4 ] || fail "after SIGKILL, list vms: [$out]"
npid=$(svc_pid)
[ -n "$npid" ] && [ "$npid" != "$pid" ] || fail "the service was not restarted ($pid -> $npid)"
expect_mr race1 memory 79
expect_mr race1 VMState '"poweroff"'

# ---- a corrupted machine file -------------------------------------------------
newhome
ok createvm --name broken --register
buuid=$(sed -n 's/^UUID: //p' "$tmp/out")
bcfg=$(sed -n "s/^Settings file: '\(.*\)'$/\1/p" "$tmp/out")
ok createvm --name fine --register
cp "$bcfg" "$tmp/good.capsule"
printf '<?xml version="1.0"?>\n<CapsuleMachine garbage\n' >"$bcfg"
cp "$bcfg" "$tmp/corrupt.capsule"
ok list vms
grep -q "^\"<inaccessible>\" {$buuid}$" "$tmp/out" || fail "corrupt machine not listed inaccessible: [$out]"
reason=$(grep -A1 "^\"<inaccessible>\" {$buuid}$" "$tmp/out" | tail -1)
[[ "$reason" =~ ^[[:space:]]+[^[:space:]] ]] || fail "no indented reason line: [$out]"
grep -qF "$bcfg" <<<"$reason" || echo "note: the reason does not name the file: $reason"
grep -q '^"fine" {' "$tmp/out" || fail "the good machine is not listed: [$out]"
expect_mr "$buuid" name '"<inaccessible>"'
expect_mr "$buuid" CfgFile "\"$bcfg\""
run modifyvm "$buuid" --memory 128
[ $rc -eq 1 ] || fail "modifyvm of an inaccessible machine exited $rc, want 1"
cmp -s "$bcfg" "$tmp/corrupt.capsule" || fail "the corrupt file was changed"
# Still there and still untouched after a restart of the service.
kill_svc "$(svc_pid)"
ok list vms
grep -q "^\"<inaccessible>\" {$buuid}$" "$tmp/out" || fail "after restart: [$out]"
cmp -s "$bcfg" "$tmp/corrupt.capsule" || fail "the corrupt file was changed by the restart"
# Repaired: accessible again, without restarting the service.
cp "$tmp/good.capsule" "$bcfg"
ok list vms
grep -q "^\"broken\" {$buuid}$" "$tmp/out" || fail "repaired machine: [$out]"
expect_mr broken VMState '"poweroff"'

# ---- a client of another uid ----------------------------------------------------
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && asnobody test -x "$CAP" && [ -x /usr/bin/python3 ]; then
    newhome
    ok list vms  # the service runs
    chmod 0711 "$tmp" "$CAPSULE_HOME"
    asnobody env CAPSULE_HOME="$CAPSULE_HOME" \
        "$CAP" list vms >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] || fail "capsule as nobody exited $rc, want 1: $(cat "$tmp/err")"
    grep -q '^capsule: error: ' "$tmp/err" || fail "capsule as nobody: $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && fail "capsule as nobody printed: $(cat "$tmp/out")"
    # The service itself refuses another uid (SO_PEERCRED) even when the
    # socket is reachable: open the folder for a moment and knock.
    sockmode=$(stat -c %a "$CAPSULE_HOME/run/svc.sock")
    chmod 0711 "$CAPSULE_HOME/run"
    chmod 0777 "$CAPSULE_HOME/run/svc.sock"
    asnobody /usr/bin/python3 - "$CAPSULE_HOME/run/svc.sock" \
        >"$tmp/peer" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
    s.settimeout(5)
    s.sendall(b'\0' * 64)
    print("refused" if s.recv(64) == b'' else "answered")
except (ConnectionError, OSError) as e:
    print("refused", e)
EOF
    chmod "$sockmode" "$CAPSULE_HOME/run/svc.sock"
    chmod 0700 "$CAPSULE_HOME/run" "$CAPSULE_HOME" "$tmp"
    grep -q '^refused' "$tmp/peer" || fail "the service answered another uid: $(cat "$tmp/peer")"
    ok list vms  # and still serves its owner
else
    test_skip "cli (another uid)" "needs root, a 'nobody' user and a build nobody can run"
fi

# ---- a client's objects leave no handle behind ---------------------------------
newhome
for i in 1 2 3 4 5; do ok createvm --name "hold$i" --register; done
# svc_counts: sets clients and handles to ICapsule's clientCount and
# objectHandleCount, as a fresh client sees them (itself and its root
# object included).
svc_counts() {
    local line
    line=$("$HOLD" counts 2>"$tmp/counts.err")
    clients=$(sed -n 's/^clients \([0-9]*\) handles [0-9]*$/\1/p' <<<"$line")
    handles=$(sed -n 's/^clients [0-9]* handles \([0-9]*\)$/\1/p' <<<"$line")
    [ -n "$handles" ] || { fail "holdclient counts printed [$line]: $(cat "$tmp/counts.err")"; return 1; }
}
# back_to_base WHAT: polls for up to 5 s (scaled) until objectHandleCount is $base
# and only the asking client is connected again; prints how long it took.
back_to_base() {
    local i start=$(date +%s%N)
    for i in $(seq 1 $((50 * S))); do
        svc_counts || return
        [ "$handles" -eq "$base" ] && [ "$clients" -eq 1 ] && {
            echo "handles: $1: back to $base handles in $((($(date +%s%N) - start) / 1000000)) ms"
            return 0
        }
        sleep 0.1
    done
    fail "$1: after $((5 * S)) s the service still has $handles object handles (baseline $base) and $clients clients (want 1)"
}
# The CLI calls above may still be ending: wait until this client is the
# only one, then take its count as the baseline.
for i in $(seq 1 $((50 * S))); do svc_counts && [ "$clients" = 1 ] && break; sleep 0.1; done
base=${handles:-0}
[ "$clients" = 1 ] && [ "$base" -ge 1 ] ||
    fail "baseline: clientCount $clients, objectHandleCount $base (want 1 client holding at least its root)"
# hold_line: parses "holding N clients C handles H" of $tmp/hold.out.
hold_line() {
    read -r _ held _ hclients _ hhandles <"$tmp/hold.out"
    # 5 machines, their serial ports, host, system properties, event source,
    # listener; each a distinct object, so a handle each beside the root.
    [ "${held:-0}" -ge 9 ] && [ "${hhandles:-0}" -ge $((base + held)) ] && [ "${hclients:-0}" -ge 1 ] ||
        fail "$1: holdclient printed [$(cat "$tmp/hold.out")]: want >= 9 objects, >= $base + that many handles, >= 1 client"
}
for how in "hold" "hold --wait"; do
    what="SIGKILL of a client holding objects${how#hold}"
    : >"$tmp/hold.out"
    "$HOLD" $how >"$tmp/hold.out" 2>"$tmp/hold.err" &
    hpid=$!
    for i in $(seq 1 $((100 * S))); do grep -q '^holding ' "$tmp/hold.out" && break; sleep 0.1; done
    if grep -q '^holding ' "$tmp/hold.out"; then
        hold_line "$what"
        [ "$how" = "hold --wait" ] && sleep 0.3 # let it enter getEvent
        kill -9 $hpid
        wait $hpid 2>/dev/null
        back_to_base "$what ($held objects, $hhandles handles)"
    else
        kill -9 $hpid 2>/dev/null
        wait $hpid 2>/dev/null
        fail "$what: holdclient did not start holding: $(cat "$tmp/hold.err")"
    fi
done
"$HOLD" release >"$tmp/hold.out" 2>"$tmp/hold.err" || fail "holdclient release: $(cat "$tmp/hold.err")"
hold_line "clean exit"
back_to_base "clean exit of a client that held $held objects"

# ---- load: 20 clients x 500 rounds, no error, no memory growth -------------------
newhome
ok createvm --name load --register
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
load_round() {
    local i pids=() bad=0
    for i in $(seq 1 20); do "$LOAD" load 500 2>"$tmp/load$i.err" & pids+=($!); done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || bad=$((bad + 1)); done
    for i in $(seq 1 20); do [ -s "$tmp/load$i.err" ] && echo "$(cat "$tmp/load$i.err")"; done
    return $bad
}
pid=$(svc_pid)
start=$(date +%s%N)
load_round >"$tmp/load.out" || fail "load (warm-up): $(head -5 "$tmp/load.out")"
el=$((($(date +%s%N) - start) / 1000000))
r1=$(rss "$pid")
load_round >"$tmp/load.out" || fail "load: $(head -5 "$tmp/load.out")"
r2=$(rss "$pid")
[ "$(svc_pid)" = "$pid" ] || fail "the service restarted during the load test"
echo "load: 20 x 500 rounds (4 calls each) in $el ms; service RSS $r1 kB -> $r2 kB"
# Margin: 4 MB plus 10 % for allocator noise; a leak of even 100 bytes per
# call would add 4 MB over the 40000 calls of a round.
[ "$r2" -le $((r1 + 4096 + r1 / 10)) ] || fail "service RSS grew from $r1 kB to $r2 kB"

finish
