#!/bin/bash
# tests/integration/disk_boot.sh - real guests from real media (issue 12):
# the guest kit's boot disk (tools/guestkit/mkdisk.sh: MBR, syslinux on FAT,
# the kit's kernel, initramfs and disk drivers) and its CD-ROM
# (tools/guestkit/mkiso.sh: isolinux, El Torito) booted by SeaBIOS under
# capsule-vm --firmware bios --engine rem, no --kernel: BIOS -> boot sector
# -> syslinux/isolinux -> Linux -> the kit's init, whose batch command
# (capsule.batch on the media's command line) runs with the media's own
# disk driver and powers off through the debug-exit port.
#   disk, one boot per controller of this build (DISK_BOOT_CONTROLLERS,
#     default: every one of this build; ./check.sh's ASan pass names the
#     ones it leaves out, and the test notes each one not booted): the
#     guest finds its disk (/dev/sda on IDE and SATA, /dev/vda on virtio),
#     writes a line naming the controller to partition 2 (fsync), and
#     powers off; the line is in the image file at partition 2's offset
#     afterwards (the data went guest -> controller -> block layer -> the
#     file);
#   dvd: the guest reads its CD-ROM (/dev/sr0, 2048-byte sectors) and finds
#     the ISO's volume descriptor (CD001) at sector 16;
#   EM's engine per CPU mode, in the VM log of each boot: the first entry of
#     real, protected and long mode, each with its engine ("em: real mode ->
#     rem"). The virtio boot runs --engine auto (rem on a host without KVM;
#     with hm picked, real mode must still go to rem and long mode to hm;
#     where that cannot happen here, a counted skip says so), the others
#     --engine rem.
# About 20 s per boot under rem (LINUX_REM_TIMEOUT, default 240 s, times
# CAPSULE_TIMEOUT_SCALE, bounds each). The kit policy is linux_rem.sh's.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIT=$TOP/tools/guestkit
VM=$B/bin/capsule-vm
LIMIT=$((${LINUX_REM_TIMEOUT:-240} * ${CAPSULE_TIMEOUT_SCALE:-1}))
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok   $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_media disk-boot "$tmp" xorriso mkfs.fat mcopy syslinux sfdisk
case $? in 2) exit 0 ;; 1) exit 1 ;; esac
key() { sed -n "s/^$1=//p" "$2"; }
# The kit init's batch mode: the command in URL-safe base64, then the
# debug-exit port with its status.
batch_args() { echo "capsule.batch=$(printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d =) capsule.debugexit=1"; }

# boot NAME DRIVE: runs SeaBIOS with that one drive until the guest powers
# off; sets rc (capsule-vm's exit status) and leaves the console in
# $tmp/NAME.out.
boot() {
    local t0=$(date +%s%N)
    timeout -k 5 "$LIMIT" "$VM" --firmware bios --engine "${ENGINE:-rem}" --memory 256 --debug-exit \
        --serial "file:$tmp/$1.out" --drive "$2" >"$tmp/$1.err" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
}

# modes NAME ASKED: the VM log of boot NAME names the engine of each CPU mode
# the guest went through (SeaBIOS: real and protected; Linux: long), as
# em_engine_for_mode decides: one engine throughout unless auto picked hm.
modes() {
    local err=$tmp/$1.err picked m e bad=
    picked=$(sed -n 's/.*em: engine \([a-z]*\) (asked: .*/\1/p' "$err" | head -1)
    for m in real protected long; do
        e=$picked
        [ "$2" = auto ] && [ "$picked" = hm ] && [ $m = real ] && e=rem
        grep -q "em: $m mode -> $e (first at " "$err" || bad="$bad $m"
    done
    if [ -n "$bad" ]; then
        fail "$1 (--engine $2, picked '$picked'): no 'em: MODE mode -> $e' for:$bad; the log says:"
        grep 'mode ->' "$err" | sed 's/^/  /'
    else
        pass "$1 (--engine $2, picked $picked): $(grep -o 'em: [a-z]* mode -> [a-z]*' "$err" | sed 's/^em: //' | paste -sd, | sed 's/,/, /g')"
        local hm="disk-boot (auto picking hm, real mode -> rem and long mode -> hm)"
        if [ "$2" = auto ] && [ "$picked" != hm ]; then
            if kvm_usable; then
                test_skip "$hm" "auto picked $picked on this host (guest kernel code is faster there)"
            else
                need_kvm "$hm"
            fi
        fi
    fi
}

# ---- disks, one per controller ------------------------------------------------
cmd='d=/dev/sda; [ -b /dev/vda ] && d=/dev/vda
echo "disk $d $(cat /sys/block/${d#/dev/}/size) sectors"
printf "capsule-disk-boot %s\n" "$(cat /proc/cmdline | tr " " "\n" | sed -n "s/^capsule.ctl=//p")" |
    dd of=${d}2 bs=512 conv=sync,fsync && echo wrote'
ctls=${DISK_BOOT_CONTROLLERS:-ide sata virtio}
for ctl in ide sata virtio; do
    case " $ctls " in *" $ctl "*) ;; *) echo "disk_boot: note: DISK_BOOT_CONTROLLERS='$ctls': no $ctl disk boot in this run" ;; esac
done
for ctl in $ctls; do
    if ! "$KIT/mkdisk.sh" --name "boot-$ctl" --append "$(batch_args "$cmd") capsule.ctl=$ctl" \
        >"$tmp/mk-$ctl" 2>&1; then
        fail "mkdisk.sh: $(cat "$tmp/mk-$ctl")"
        continue
    fi
    disk=$(key disk "$tmp/mk-$ctl")
    engine=rem
    [ "$ctl" = virtio ] && engine=auto
    ENGINE=$engine boot "disk-$ctl" "if=$ctl,port=0,device=0,media=disk,file=$disk"
    written=$(dd if="$disk" bs=512 skip=51200 count=1 status=none | tr -d '\0' | head -1)
    if [ $rc = 1 ] && grep -q '^=== capsule-batch end rc=0 ===' "$tmp/disk-$ctl.out" &&
        grep -q '^wrote' "$tmp/disk-$ctl.out" && [ "$written" = "capsule-disk-boot $ctl" ]; then
        pass "$ctl disk: BIOS -> syslinux -> Linux, $(grep -m1 '^disk ' "$tmp/disk-$ctl.out"), the guest's write in the image ($ms ms)"
        modes "disk-$ctl" $engine
    else
        fail "$ctl disk: exit $rc after $ms ms, partition 2 holds '$written'; console tail:"
        tail -15 "$tmp/disk-$ctl.out" 2>/dev/null | sed 's/^/  /'
        tail -5 "$tmp/disk-$ctl.err" | sed 's/^/  /'
    fi
done

# ---- the CD-ROM ---------------------------------------------------------------
cmd='echo "sr0 $(cat /sys/block/sr0/queue/logical_block_size)-byte sectors"
dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=1 count=5 2>/dev/null; echo'
if "$KIT/mkiso.sh" --name boot-dvd --append "$(batch_args "$cmd")" >"$tmp/mk-iso" 2>&1; then
    iso=$(key iso "$tmp/mk-iso")
    boot dvd "if=ide,port=1,device=0,media=cdrom,file=$iso"
    if [ $rc = 1 ] && grep -q '^=== capsule-batch end rc=0 ===' "$tmp/dvd.out" &&
        grep -q '^sr0 2048-byte sectors' "$tmp/dvd.out" && grep -q '^CD001' "$tmp/dvd.out"; then
        pass "IDE CD-ROM: BIOS -> isolinux -> Linux, /dev/sr0 with 2048-byte sectors, CD001 at sector 16 ($ms ms)"
    else
        fail "IDE CD-ROM: exit $rc after $ms ms; console tail:"
        tail -15 "$tmp/dvd.out" 2>/dev/null | sed 's/^/  /'
        tail -5 "$tmp/dvd.err" | sed 's/^/  /'
    fi
else
    fail "mkiso.sh: $(cat "$tmp/mk-iso")"
fi

if [ $fails -ne 0 ]; then
    echo "disk_boot: $fails failure(s)"
    exit 1
fi
echo "disk_boot: all passed"
