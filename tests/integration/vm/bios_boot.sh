# tests/integration/vm/bios_boot.sh - sourced by the storage tests (ide.sh,
# ahci.sh): boots capsule-vm under SeaBIOS (--firmware bios, engine rem,
# Debian's seabios package) until the payload's debug-exit, and checks the
# exit status and the serial output.
# Set BOOT_TEST (the name printed before each result) first. Sets B, VM,
# PAY (the payloads), S (the timeout scale), BIOS and T (a temporary folder,
# removed at exit); exits with a failure when SeaBIOS or xorriso is
# missing. Counts failures in `fails`.
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
VM=$B/bin/capsule-vm
PAY=$B/tests/vm-payloads
S=${CAPSULE_TIMEOUT_SCALE:-1}
BIOS=/usr/share/seabios/bios-256k.bin
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for need in "$BIOS:Debian's seabios package" /usr/bin/xorriso:xorriso; do
    if [ ! -e "${need%%:*}" ]; then
        echo "FAIL $BOOT_TEST: ${need%%:*} is missing: install ${need#*:} (tools/setup.sh does)"
        exit 1
    fi
done
fails=0
fail() {
    echo "FAIL $*"
    fails=$((fails + 1))
}

ms() { echo $(($(date +%s%N) / 1000000)); }

# boot NAME WANT_STATUS SERIAL_PATTERN ARGS...: one VM to its debug-exit.
boot() {
    name=$1 want=$2 pat=$3
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
    echo "$BOOT_TEST: $name: '$pat' after $t ms"
}

# make_cd_iso: $T/cd.iso, an ISO with ide_cdboot.bin as its El Torito
# no-emulation boot image (xorriso).
make_cd_iso() {
    mkdir -p "$T/iso"
    cp "$PAY/ide_cdboot.bin" "$T/iso/boot.bin"
    if ! xorriso -as mkisofs -quiet -o "$T/cd.iso" -b boot.bin -no-emul-boot -boot-load-size 4 \
        "$T/iso" >"$T/xorriso.log" 2>&1; then
        fail "xorriso could not make the ISO"
        sed 's/^/    /' "$T/xorriso.log"
    fi
}

# mbr_disk FILE SIZE: a raw disk of SIZE (truncate's syntax) whose boot
# sector is ide_mbr.bin.
mbr_disk() {
    cp "$PAY/ide_mbr.bin" "$1"
    truncate -s "$2" "$1"
}

# check_guest_write FILE WHAT: LBA 2050 of FILE holds what ide_mbr.bin
# writes there ($T/want).
check_guest_write() {
    for i in $(seq 16); do printf 'CAPSULE-IDE-WRITE-TEST-LBA-2050!'; done >"$T/want"
    dd if="$1" of="$T/got" bs=512 skip=2050 count=1 status=none
    cmp -s "$T/want" "$T/got" || fail "$2: LBA 2050 of the image is not what the guest wrote"
}

# readonly_boot DRIVE_SPEC_PREFIX: ide_mbr.bin from a read-only disk
# (DRIVE_SPEC_PREFIX,file=...): its write fails, the image stays as it was.
readonly_boot() {
    mbr_disk "$T/ro.img" 1M
    sum=$(md5sum <"$T/ro.img")
    boot "readonly disk" 95 "disk write FAILED" --boot disk --drive "$1,readonly=on,file=$T/ro.img"
    [ "$(md5sum <"$T/ro.img")" = "$sum" ] || fail "readonly: the image changed"
}
