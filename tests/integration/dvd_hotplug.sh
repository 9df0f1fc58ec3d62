#!/bin/bash
# tests/integration/dvd_hotplug.sh - a running VM's DVD changes (issue 12
# item 7: controlvm's eject and insert), in a temporary CAPSULE_HOME, under
# rem: the guest (dvd_watch.bin) polls its DVD drive on the secondary
# master with ATAPI TEST UNIT READY and reports on COM1 each unit
# attention, an empty drive, and the volume id at LBA 16 of each medium.
# The change goes CLI -> service (mountMedium on the Shared session's
# machine) -> the VM process (IInternalSessionControl's onMediumChange ->
# pdm_drive_set_medium) -> the guest; then the settings record it.
# Checked:
#  - controlvm dvdattach ISO A, storageattach --medium ISO B, storageattach
#    --medium emptydrive, controlvm dvdattach none: each seen by the guest
#    and kept in the settings (showvminfo), an unregistered ISO registered;
#    a change while the VM is paused seen once it resumes;
#  - the guest's lock (PREVENT MEDIUM REMOVAL, taken for a "LOCK..." volume)
#    refuses a change with a clear error and the settings unchanged;
#    --forceunmount changes it anyway;
#  - refused with the reason and nothing changed: a missing file, a
#    folder instead of an image, a hard disk on a running machine, a slot with no drive,
#    a detach while running, dvdattach on a stopped machine.
set -u
NAME=dvd_hotplug
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/dvd_watch.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
command -v xorriso >/dev/null || { fail "xorriso is missing: install it (tools/setup.sh does)"; finish; }
export CAPSULE_SVC_IDLE_TIMEOUT=60000

d=$tmp/media
mkdir -p "$d/files"
echo data >"$d/files/x"
for v in ALPHA BRAVO LOCKED; do
    xorriso -as mkisofs -quiet -V $v -o "$d/$v.iso" "$d/files" 2>"$tmp/xorriso.log" ||
        fail "xorriso could not make $v.iso: $(cat "$tmp/xorriso.log")"
done
head -c 1048576 /dev/zero >"$d/disk.img"

ok createvm --name dvd --register
ok modifyvm dvd --kernel "$PAYLOAD" --engine rem --uart1 0x3f8 4 --uartmode1 file "$tmp/com1"
ok storagectl dvd --name IDE --add ide
ok storageattach dvd --storagectl IDE --port 1 --device 0 --type dvddrive --medium emptydrive

expect 1 "is not running|no running VM" controlvm dvd dvdattach "$d/ALPHA.iso"
expect 2 "only for a running machine" storageattach dvd --storagectl IDE --port 1 --device 0 \
    --type dvddrive --medium "$d/ALPHA.iso" --forceunmount

ok startvm dvd --type headless
# seen N TEXT: the guest's Nth line saying TEXT (lines accumulate).
seen() {
    local i
    for i in $(seq 1 $((100 * S))); do
        [ "$(tr -d '\r' <"$tmp/com1" 2>/dev/null | grep -cxF "$2")" -ge "$1" ] && {
            echo "ok   the guest saw: $2 ($1)"
            return 0
        }
        sleep 0.05
    done
    fail "the guest did not report '$2' ($1 times); COM1: $(tr -d '\r' <"$tmp/com1" | tr '\n' '|')"
}
slot() { mr dvd '"IDE-1-0"' | tr -d '"'; }
seen 1 "DVD: empty"

t0=$(date +%s%N)
ok controlvm dvd dvdattach "$d/ALPHA.iso"
seen 1 "DVD: medium ALPHA"
echo "     insert to the guest's read: $((($(date +%s%N) - t0) / 1000000)) ms"
seen 1 "DVD: changed"
[ "$(slot)" = "$d/ALPHA.iso" ] && pass "the settings have ALPHA.iso" || fail "IDE-1-0 is $(slot)"
ok showmediuminfo dvd "$d/ALPHA.iso"
pass "the ISO was registered by inserting it"

ok storageattach dvd --storagectl IDE --port 1 --device 0 --type dvddrive --medium "$d/BRAVO.iso"
seen 1 "DVD: medium BRAVO"
[ "$(slot)" = "$d/BRAVO.iso" ] && pass "the settings have BRAVO.iso" || fail "IDE-1-0 is $(slot)"

ok storageattach dvd --storagectl IDE --port 1 --device 0 --type dvddrive --medium emptydrive
seen 2 "DVD: empty"
[ "$(slot)" = emptydrive ] && pass "the settings have an empty drive" || fail "IDE-1-0 is $(slot)"

# Paused: the change waits in the drive for the guest to run again.
ok controlvm dvd pause
ok controlvm dvd dvdattach "$d/ALPHA.iso"
ok controlvm dvd resume
seen 2 "DVD: medium ALPHA"
ok controlvm dvd dvdattach none
seen 3 "DVD: empty"

# --- the guest's lock (kept until it reads a medium not named LOCK...) -----------------------------------------------------------
ok controlvm dvd dvdattach "$d/LOCKED.iso"
seen 1 "DVD: locked"
expect 1 "the guest has locked the medium" controlvm dvd dvdattach "$d/BRAVO.iso"
expect 1 "the guest has locked the medium" storageattach dvd --storagectl IDE --port 1 \
    --device 0 --type dvddrive --medium emptydrive
[ "$(slot)" = "$d/LOCKED.iso" ] && pass "refused: the settings still have LOCKED.iso" ||
    fail "IDE-1-0 is $(slot) after a refused change"
ok storageattach dvd --storagectl IDE --port 1 --device 0 --type dvddrive --medium "$d/BRAVO.iso" \
    --forceunmount
seen 2 "DVD: medium BRAVO"
[ "$(slot)" = "$d/BRAVO.iso" ] && pass "forced: the settings have BRAVO.iso" || fail "IDE-1-0 is $(slot)"

# --- bad changes: clear errors, nothing changed ---------------------------------
expect 1 "nope.iso" controlvm dvd dvdattach "$d/nope.iso"
expect 1 "files" controlvm dvd dvdattach "$d/files"
expect 1 "hot-plugging a hard disk is not supported" storageattach dvd --storagectl IDE \
    --port 0 --device 0 --type hdd --medium "$d/disk.img"
expect 1 "no drive is attached at IDE port 0 device 1" storageattach dvd --storagectl IDE \
    --port 0 --device 1 --type dvddrive --medium "$d/ALPHA.iso"
expect 1 "cannot be detached" storageattach dvd --storagectl IDE --port 1 --device 0 --medium none
[ "$(slot)" = "$d/BRAVO.iso" ] && pass "after the refusals the settings still have BRAVO.iso" ||
    fail "IDE-1-0 is $(slot) after refused changes"
[ "$(tr -d '\r' <"$tmp/com1" | grep -c '^DVD: medium')" = 5 ] &&
    pass "the guest saw no change from the refused ones" ||
    fail "the guest saw: $(tr -d '\r' <"$tmp/com1" | tr '\n' '|')"

expect 2 "the image \(FILE\) or none is missing" controlvm dvd dvdattach
expect 2 "pause takes no argument" controlvm dvd pause "$d/ALPHA.iso"
ok controlvm dvd poweroff
wait_state dvd poweroff
expect_mr dvd '"IDE-1-0"' "\"$d/BRAVO.iso\""
expect 1 "is not running|no running VM" controlvm dvd dvdattach "$d/ALPHA.iso"
finish
