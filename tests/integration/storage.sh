#!/bin/bash
# tests/integration/storage.sh - storage controllers, drives and firmware
# from the CLI (issue 12 items 4 and 7), VBoxManage's way, in a temporary
# CAPSULE_HOME against the real capsule-svc:
#  - storagectl --add ide|sata|virtio (--portcount, --bootable, --remove),
#    storageattach --type hdd|dvddrive --medium FILE|emptydrive|none, an
#    image not yet registered registered by attaching it;
#  - showvminfo for people ("Storage Controller Name (0):", "SATA (0, 0):",
#    "Boot Device 1:") and --machinereadable with VBoxManage's exact keys
#    (storagecontrollername0.., "IDE-0-0", "IDE-ImageUUID-0-0",
#    "emptydrive", "none", firmware, boot1..4);
#  - modifyvm --firmware bios --boot1..4; efi refused as not in this build;
#  - bad slots, buses, drive types refused with the reason; list hdds says
#    "In use by VMs"; closemedium (and --delete) of an attached medium
#    refused naming the machine; all of it kept across a service restart;
#  - a running VM (engine rem, serial_hlt.bin) holds its disks: another
#    machine cannot attach one or start with one until it powers off or its
#    VM process dies; an ISO can be attached to both; the VM process is
#    given the drives as capsule-vm --drive options (its log line). Where
#    this build's capsule-vm has no --drive yet, the VM cannot start with
#    drives: the log line and the clear failure are checked instead;
#  - the whole flow where the IDE controller is in the build: modifyvm
#    --firmware bios --boot1 dvd --boot2 disk, an empty DVD drive and a disk
#    whose boot sector is ide_mbr.bin; startvm boots it through SeaBIOS and
#    the guest's write lands in the image.
set -u
NAME=storage
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/serial_hlt.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/skip.sh"

d=$tmp/disks
mkdir -p "$d"
head -c 65536 /dev/zero >"$d/cd.iso"

ok createvm --name a --register
ok createvm --name b --register
ok createmedium disk --filename "$d/a.vdi" --size 4
a_id=$(echo "$out" | sed -n 's/^Medium created\. UUID: //p')

# --- controllers ---------------------------------------------------------------
ok storagectl a --name IDE --add ide
ok storagectl a --name SATA --add sata --controller IntelAhci --portcount 2
ok storagectl a --name VirtIO --add virtio --bootable off
expect 2 "unknown bus 'scsi'" storagectl a --name X --add scsi
expect 2 "'LsiLogic' is not in this build" storagectl a --name X --add sata --controller LsiLogic
expect 1 "already has a storage controller 'IDE'" storagectl a --name IDE --add sata
expect 1 "can only be of type PIIX3" storagectl a --name IDE --controller IntelAhci
expect 1 "port count 31" storagectl a --name SATA --portcount 31
expect 2 "nothing to do" storagectl a --name SATA
expect 1 "cannot sit on the VirtIO controller" storageattach a --storagectl VirtIO --port 0 --device 0 \
    --type dvddrive --medium emptydrive
ok storagectl a --name VirtIO --remove
expect 1 "no storage controller 'VirtIO'" storagectl a --name VirtIO --remove

# --- drives ----------------------------------------------------------------------
ok storageattach a --storagectl SATA --port 0 --device 0 --type hdd --medium "$d/a.vdi"
ok storageattach a --storagectl IDE --port 1 --device 0 --type dvddrive --medium emptydrive
# The ISO is not registered yet: attaching registers it.
ok storageattach a --storagectl IDE --port 0 --device 0 --type dvddrive --medium "$d/cd.iso"
ok showmediuminfo dvd "$d/cd.iso" --machinereadable
iso_id=$(echo "$out" | sed -n 's/^UUID="\(.*\)"$/\1/p')
[ -n "$iso_id" ] && pass "the ISO was registered by attaching it ($iso_id)" ||
    fail "the ISO is not registered: $out"
expect 1 "port 2 is out of range 0..1 of the SATA controller 'SATA'" \
    storageattach a --storagectl SATA --port 2 --type hdd --medium "$d/a.vdi"
expect 1 "device 2 is out of range 0..1 of the IDE controller 'IDE'" \
    storageattach a --storagectl IDE --port 0 --device 2 --type dvddrive --medium emptydrive
expect 1 "already attached to 'a'" \
    storageattach a --storagectl SATA --port 1 --type hdd --medium "$d/a.vdi"
expect 2 "only a DVD drive can be empty" \
    storageattach a --storagectl SATA --port 1 --type hdd --medium emptydrive
expect 2 "is required to attach a drive" storageattach a --storagectl SATA --port 1 --medium "$d/a.vdi"
expect 1 "no storage controller 'nope'" \
    storageattach a --storagectl nope --port 0 --type dvddrive --medium emptydrive

# --- firmware and boot order ----------------------------------------------------
expect_mr a firmware '"None"'
expect_mr a boot1 '"dvd"'
expect_mr a boot2 '"disk"'
ok modifyvm a --firmware bios --boot1 disk --boot2 dvd --boot3 none
expect 1 "EFI firmware is not in this build yet" modifyvm a --firmware efi
expect 2 "floppy and net boot are not in this build" modifyvm a --boot1 floppy

# --- showvminfo, both forms --------------------------------------------------------
check_mr() {
    ok showvminfo a --machinereadable
    local want
    want=$(
        cat <<EOF
firmware="BIOS"
boot1="disk"
boot2="dvd"
boot3="none"
boot4="none"
storagecontrollername0="IDE"
storagecontrollertype0="PIIX3"
storagecontrollerinstance0="0"
storagecontrollermaxportcount0="2"
storagecontrollerportcount0="2"
storagecontrollerbootable0="on"
storagecontrollername1="SATA"
storagecontrollertype1="IntelAhci"
storagecontrollerinstance1="0"
storagecontrollermaxportcount1="30"
storagecontrollerportcount1="2"
storagecontrollerbootable1="on"
"IDE-0-0"="$d/cd.iso"
"IDE-ImageUUID-0-0"="$iso_id"
"IDE-0-1"="none"
"IDE-1-0"="emptydrive"
"IDE-1-1"="none"
"SATA-0-0"="$d/a.vdi"
"SATA-ImageUUID-0-0"="$a_id"
"SATA-1-0"="none"
EOF
    )
    local got
    got=$(echo "$out" | grep -E '^(firmware|boot[1-4]|storagecontroller|"(IDE|SATA)-)')
    [ "$got" = "$want" ] && pass "showvminfo --machinereadable: VBoxManage's storage keys ($1)" ||
        fail "showvminfo --machinereadable ($1): got
$got
want
$want"
}
check_mr "as set"
ok showvminfo a
for line in "Firmware:        BIOS" "Boot Device 1:   HardDisk" "Boot Device 3:   Not Assigned" \
    "Storage Controller Name (1):            SATA" \
    "Storage Controller Bootable (0):        on" \
    "IDE (1, 0):                             Empty" \
    "SATA (0, 0):                            $d/a.vdi (UUID: $a_id)"; do
    echo "$out" | grep -qxF "$line" || fail "showvminfo lacks '$line'"
done
pass "showvminfo lists the controllers, drives and boot order"

# --- media in use ------------------------------------------------------------------
ok list hdds
echo "$out" | grep -qxF "In use by VMs:  a (UUID: $(mr a UUID | tr -d '"'))" ||
    fail "list hdds does not say a uses the disk: $out"
expect 1 "attached to the machine 'a'" closemedium "$d/a.vdi"
expect 1 "attached to the machine 'a'" closemedium "$d/a.vdi" --delete
[ -f "$d/a.vdi" ] && pass "the attached disk's file is still there" || fail "a.vdi was deleted"

# --- a service restart keeps it all ----------------------------------------------
kill_svc
check_mr "after a service restart"

# --- detach ----------------------------------------------------------------------------
ok storageattach a --storagectl SATA --port 0 --medium none
expect_mr a '"SATA-0-0"' '"none"'
ok closemedium "$d/a.vdi"
ok storageattach a --storagectl IDE --port 0 --type dvddrive --medium emptydrive
expect_mr a '"IDE-0-0"' '"emptydrive"'

# --- a running VM's disks ----------------------------------------------------------
ok createmedium disk --filename "$d/run.vdi" --size 2
for vm in runner other; do
    ok createvm --name $vm --register
    ok modifyvm $vm --engine rem --kernel "$PAYLOAD"
    ok storagectl $vm --name IDE --add ide
    ok storageattach $vm --storagectl IDE --port 1 --type dvddrive --medium "$d/cd.iso"
done
ok storageattach runner --storagectl IDE --port 0 --type hdd --medium "$d/run.vdi"
# In the order they were attached; file= last, the path verbatim.
drives="--drive if=ide,port=1,device=0,media=cdrom,format=iso,file=$d/cd.iso"
drives="$drives --drive if=ide,port=0,device=0,media=disk,format=vdi,file=$d/run.vdi"
if "$B/bin/capsule-vm" --drive if=ide,port=0,device=0,media=cdrom --help >/dev/null 2>&1; then
    ok startvm runner --type headless
    wait_state runner running
    log=$(mr runner LogFldr | tr -d '"')/capsule-vm.log
    grep -qF -- "as options: --kernel $PAYLOAD --graphics vga $drives" "$log" &&
        pass "capsule-vm got the drives as --drive options" ||
        fail "no --drive options in $log: $(grep 'as options' "$log")"
    ok showmediuminfo "$d/run.vdi"
    echo "$out" | grep -qx "State:          locked write" || fail "run.vdi not locked write: $out"
    expect 1 "locked for writing by the running machine 'runner'" \
        storageattach other --storagectl IDE --port 0 --type hdd --medium "$d/run.vdi"
    ok controlvm runner poweroff
    wait_state runner poweroff
    ok storageattach other --storagectl IDE --port 0 --type hdd --medium "$d/run.vdi"
    # other holds it now: runner may not start with it, and is told why.
    ok startvm other --type headless
    wait_state other running
    expect 1 "locked for writing by the running machine 'other'" startvm runner --type headless
    expect_mr runner VMState '"poweroff"'
    # other's VM process dies: the lock goes with it.
    vmpid=$(mr other SessionPID)
    kill -9 "$vmpid"
    wait_state other aborted
    ok startvm runner --type headless
    wait_state runner running
    ok controlvm runner poweroff
    wait_state runner poweroff
else
    test_skip storage "capsule-vm has no --drive yet: a VM with drives cannot start in this build"
    expect 1 "--drive" startvm runner --type headless
    log=$(mr runner LogFldr | tr -d '"')/capsule-vm.log
    grep -qF -- "as options: --kernel $PAYLOAD --graphics vga $drives" "$log" &&
        pass "capsule-vm was given the drives as --drive options" ||
        fail "no --drive options in $log: $(cat "$log")"
    expect_mr runner VMState '"poweroff"'
    # Without drives the machine starts as before (direct kernel boot).
    ok storagectl runner --name IDE --remove
    ok startvm runner --type headless
    wait_state runner running
    ok controlvm runner poweroff
    wait_state runner poweroff
fi
# A BIOS machine needs no kernel, but something to boot from.
ok modifyvm other --firmware bios --boot1 none --boot2 none --kernel ""
expect 1 "boot order is empty" startvm other --type headless

# --- the whole flow: BIOS -> the machine's IDE disk, through the service ------------
# ide_mbr.bin (the IDE controller's boot sector payload) writes a sector
# through INT 13h, reads it back, says "disk write ok" on COM1 and
# debug-exits.
MBR=$B/tests/vm-payloads/ide_mbr.bin
if [ ! -f "$MBR" ] || [ ! -f /usr/share/seabios/bios-256k.bin ] ||
    ! "$B/bin/capsule-vm" --drive if=ide,port=0,device=0,media=cdrom --help >/dev/null 2>&1; then
    test_skip storage "no IDE controller or boot payload in this build: the BIOS boot from a machine's disk is not run"
else
    cp "$MBR" "$d/pc.img"
    truncate -s 4M "$d/pc.img"
    cp "$d/pc.img" "$tmp/pc.orig"
    ok createvm --name pc --register
    ok modifyvm pc --firmware bios --boot1 dvd --boot2 disk --engine rem --debugexit on \
        --uart1 0x3f8 4 --uartmode1 file "$tmp/pc.serial"
    ok storagectl pc --name IDE --add ide
    ok storageattach pc --storagectl IDE --port 0 --device 0 --type hdd --medium "$d/pc.img"
    ok storageattach pc --storagectl IDE --port 1 --device 0 --type dvddrive --medium emptydrive
    t0=$(date +%s%N)
    ok startvm pc --type headless
    for i in $(seq $((200 * S))); do
        grep -aq "disk write ok" "$tmp/pc.serial" 2>/dev/null && [ "$(mr pc VMState)" = '"poweroff"' ] &&
            break
        sleep 0.1
    done
    t=$((($(date +%s%N) - t0) / 1000000))
    grep -aq "disk write ok" "$tmp/pc.serial" 2>/dev/null &&
        pass "startvm -> SeaBIOS -> the empty DVD passed over -> the IDE disk's boot sector ($t ms)" ||
        fail "the BIOS did not boot the machine's disk: serial $(tr -d '\033' <"$tmp/pc.serial" 2>&1 | tail -5)"
    wait_state pc poweroff
    # What the payload writes where is ide.sh's business; here: it got there.
    cmp -s "$tmp/pc.orig" "$d/pc.img" && fail "the guest's write is not in pc.img" ||
        pass "the guest's write is in the machine's disk image"
fi
finish
