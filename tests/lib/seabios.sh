# tests/lib/seabios.sh - sourced (bash) by the integration tests that run
# capsule-vm under SeaBIOS (--firmware bios --engine rem, Debian's seabios
# package): tests/integration/vm/{bios,vga,ide,ahci}.sh,
# tests/integration/virtio/virtio.sh, tests/integration/firmware_tables.sh.
# A new test that boots SeaBIOS sources this instead of copying a set-up:
#
#   set -u
#   SEABIOS_TEST=mytest     # the name before each result and in messages
#   SEABIOS_NEED=/usr/bin/xorriso:xorriso  # optional: more PATH:PACKAGE, a line each
#   . "$(dirname "$0")/../../lib/seabios.sh"    # (the path from the script)
#   bios_post --device vga  # POST to "No bootable device", then SIGTERM
#   [ -n "$t_end" ] || fail "mytest: no POST"
#   boot "disk" 67 "disk write ok" --boot disk --drive ...  # to debug-exit
#   seabios_finish          # "mytest: ok", or the failures and exit 1
#
# Gives:
#   B, VM, PAY, S   the build (CAPSULE_BUILD), capsule-vm, the nasm payloads
#                   (BUILD/tests/vm-payloads), the time scale
#                   (CAPSULE_TIMEOUT_SCALE: every bound below is times S)
#   BIOS            Debian's SeaBIOS image; it and SEABIOS_NEED's files
#                   (one PATH:PACKAGE a line) are checked here: a missing
#                   one fails the test at once, naming the package
#                   (tools/setup.sh installs them all)
#   T               a fresh temporary folder; at exit on_exit runs (if the
#                   script defines it: its own processes), the VM that
#                   bios_start left running is killed and T is removed
#   fails, fail MSG counts and prints ("FAIL MSG") a failure
#   ms              the time in milliseconds
#   boot NAME STATUS PATTERN ARGS...
#                   one VM to its debug-exit (--debug-exit; serial in
#                   $T/serial, capsule-vm's log in $T/log; 20 s): the exit
#                   status must be STATUS and serial must show PATTERN
#                   (grep); prints the time, or the serial and log on a
#                   failure (then returns 1)
#   bios_start ARGS...  a VM in the background, serial in $T/serial (a fresh
#                   file), log in $T/log; its pid in $pid
#   bios_wait [PATTERN [MS]]  waits until serial shows PATTERN (default "No
#                   bootable device"), the VM exits or MS (default 15000)
#                   pass; sets t_end (ms since bios_start; empty when
#                   PATTERN did not come) and t_banner (when the banner
#                   "SeaBIOS (version" came, if it was seen while waiting)
#   bios_stop       SIGTERM to the VM and wait: its status in $st
#   bios_post ARGS...  bios_start ARGS, bios_wait, bios_stop: power-on to
#                   "No bootable device" (there is no disk) and a clean stop
#   expect NAME STATUS PATTERN -- ARGS...
#                   capsule-vm ARGS (20 s) must exit STATUS and print
#                   PATTERN (grep); its output in $T/out
#   seabios_finish  ends the script: "TEST: N failure(s)" and exit 1, or
#                   "TEST: ok" and exit 0
# For the storage tests (ide_mbr.bin writes LBA 2050 through INT 13h, reads
# it back and says "disk write ok", or "disk write FAILED"; ide_cdboot.bin
# reads an ISO's volume descriptor and says "CD read ok"):
#   mbr_disk FILE SIZE   a raw disk of SIZE (truncate's syntax) whose boot
#                   sector is ide_mbr.bin
#   make_cd_iso     $T/cd.iso, ide_cdboot.bin as its El Torito
#                   no-emulation boot image (xorriso: put
#                   /usr/bin/xorriso:xorriso in SEABIOS_NEED)
#   check_guest_write FILE WHAT  LBA 2050 of FILE holds what ide_mbr.bin
#                   writes there
#   readonly_boot DRIVE_PREFIX  ide_mbr.bin from a read-only disk
#                   (DRIVE_PREFIX,readonly=on,file=$T/ro.img): its write
#                   fails, the image stays as it was
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
PAY=$B/tests/vm-payloads
S=${CAPSULE_TIMEOUT_SCALE:-1}
BIOS=/usr/share/seabios/bios-256k.bin
: "${SEABIOS_TEST:?set SEABIOS_TEST before sourcing tests/lib/seabios.sh}"
T=$(mktemp -d)
pid=
trap 'declare -F on_exit >/dev/null && on_exit; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
while IFS= read -r need; do
    if [ -n "$need" ] && [ ! -e "${need%%:*}" ]; then
        echo "FAIL $SEABIOS_TEST: ${need%%:*} is missing: install ${need#*:} (tools/setup.sh does)"
        exit 1
    fi
done <<EOF
$BIOS:Debian's seabios package
${SEABIOS_NEED:-}
EOF
fails=0
fail() {
    echo "FAIL $*"
    fails=$((fails + 1))
}

ms() { echo $(($(date +%s%N) / 1000000)); }

boot() {
    local name=$1 want=$2 pat=$3 t0 t
    shift 3
    rm -f "$T/serial"
    t0=$(ms)
    timeout $((20 * S)) "$VM" --firmware bios --engine rem --debug-exit \
        --serial "file:$T/serial" "$@" >"$T/log" 2>&1
    st=$?
    t=$(($(ms) - t0))
    if [ "$st" != "$want" ] || ! tr -d '\r' <"$T/serial" | grep -aq "$pat"; then
        fail "$name: status $st (want $want), serial pattern '$pat'"
        echo "    serial:"; tr -d '\033' <"$T/serial" | sed 's/^/    /'
        echo "    log:"; tail -20 "$T/log" | sed 's/^/    /'
        return 1
    fi
    echo "$SEABIOS_TEST: $name: '$pat' after $t ms"
}

bios_start() {
    # a fresh file: the last run's pattern must not end this one's wait
    # before capsule-vm has truncated it (a slow start, under ASan)
    rm -f "$T/serial"
    bios_t0=$(ms)
    "$VM" --firmware bios --engine rem --serial "file:$T/serial" "$@" >"$T/log" 2>&1 &
    pid=$!
}

bios_wait() {
    local pat=${1:-No bootable device} limit
    limit=$(($(ms) + ${2:-15000} * S))
    t_banner= t_end=
    while [ "$(ms)" -lt "$limit" ] && kill -0 "$pid" 2>/dev/null; do
        if [ -z "$t_banner" ] && grep -aq "SeaBIOS (version" "$T/serial" 2>/dev/null; then
            t_banner=$(($(ms) - bios_t0))
        fi
        if grep -aq -- "$pat" "$T/serial" 2>/dev/null; then
            t_end=$(($(ms) - bios_t0))
            break
        fi
        sleep 0.01
    done
}

bios_stop() {
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    st=$?
    pid=
}

bios_post() {
    bios_start "$@"
    bios_wait
    bios_stop
}

expect() {
    local name=$1 want=$2 pat=$3 got
    shift 4
    timeout $((20 * S)) "$VM" "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pat" "$T/out"; then
        fail "$name: status $got (want $want), pattern '$pat'"
        sed 's/^/    /' "$T/out"
    fi
}

seabios_finish() {
    if [ $fails -ne 0 ]; then
        echo "$SEABIOS_TEST: $fails failure(s)"
        exit 1
    fi
    echo "$SEABIOS_TEST: ok"
    exit 0
}

mbr_disk() {
    cp "$PAY/ide_mbr.bin" "$1"
    truncate -s "$2" "$1"
}

make_cd_iso() {
    mkdir -p "$T/iso"
    cp "$PAY/ide_cdboot.bin" "$T/iso/boot.bin"
    if ! xorriso -as mkisofs -quiet -o "$T/cd.iso" -b boot.bin -no-emul-boot -boot-load-size 4 \
        "$T/iso" >"$T/xorriso.log" 2>&1; then
        fail "xorriso could not make the ISO"
        sed 's/^/    /' "$T/xorriso.log"
    fi
}

check_guest_write() {
    for i in $(seq 16); do printf 'CAPSULE-IDE-WRITE-TEST-LBA-2050!'; done >"$T/want"
    dd if="$1" of="$T/got" bs=512 skip=2050 count=1 status=none
    cmp -s "$T/want" "$T/got" || fail "$2: LBA 2050 of the image is not what the guest wrote"
}

readonly_boot() {
    local sum
    mbr_disk "$T/ro.img" 1M
    sum=$(md5sum <"$T/ro.img")
    boot "readonly disk" 95 "disk write FAILED" --boot disk --drive "$1,readonly=on,file=$T/ro.img"
    [ "$(md5sum <"$T/ro.img")" = "$sum" ] || fail "readonly: the image changed"
}
