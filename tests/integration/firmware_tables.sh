#!/bin/bash
# tests/integration/firmware_tables.sh - vmm/platform's firmware tables in
# both boots that use them:
#
# 1. SeaBIOS (capsule-vm --firmware bios --engine rem) gets the ACPI tables
#    as fw_cfg files with the BIOS linker/loader script and SMBIOS as
#    etc/smbios/*: its debug log (debugcon) shows it found etc/table-loader
#    ("Moving pm_base to 0x600"), ran it and found our FADT through the
#    RSDP and XSDT it relocated ("table(50434146)=... (via xsdt)"), parsed
#    our DSDT (its length is the one vmm/platform builds) and found the
#    PS/2 keyboard in it, with no internal error (a bad script entry or no
#    RSDP after the loader is "WARNING - internal error"); on serial it
#    prints the SMBIOS system UUID ("Machine UUID ...", only when a type 1
#    structure with a UUID came from us: its own tables have none), which
#    is stable from one boot to the next.
# 2. A direct boot of the guest kit's Linux (--engine rem): the kernel reads
#    SMBIOS from the BIOS area (/sys/class/dmi/id: vendor "Capsule", the
#    same kind of UUID), takes the DSDT's PCI root bridge windows (the
#    memory window from the top of RAM to the I/O APIC), finds the four
#    PIRQ link devices (PNP0C0F), and logs no ACPI error. With the PCI test
#    function (plugins/devices/pcitest, in slot 2) in the tree, the guest
#    enables it and the whole interrupt route is checked: _PRT sends slot
#    2's INTA to LNKC (PIRQ[(2 + 0) & 3]), the kernel picks an IRQ from its
#    _PRS and sets it with _SRS, which writes the PIIX3's PIRQC register
#    through the DSDT's PCI_Config region: plugins/devices/pci logs the
#    route, and the device's irq in sysfs is that IRQ.
# 3. The same kernel in a managed VM (capsule createvm/modifyvm/startvm):
#    the SMBIOS system UUID the guest reads is the machine's UUID.
# Prints the times. ~15 s.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SEABIOS_TEST=firmware_tables
. "$TOP/tests/lib/seabios.sh"

# bios_run N: SeaBIOS to "No bootable device", debug log in $T/debug.N,
# serial in $T/serial.N
bios_run() {
    bios_post --device "debugcon,path=$T/debug.$1"
    mv "$T/serial" "$T/serial.$1"
}

t0=$(ms)
bios_run 1
t_bios=$(($(ms) - t0))
bios_run 2
D=$T/debug.1
grep -aq "No bootable device" "$T/serial.1" ||
    fail "bios: no 'No bootable device' on serial within $((15 * S)) s"
grep -q "^Moving pm_base to 0x600" "$D" ||
    fail "bios: SeaBIOS did not find etc/table-loader in fw_cfg"
grep -qE "^table\(50434146\)=0x[0-9a-f]+ \(via xsdt\)" "$D" ||
    fail "bios: SeaBIOS did not find the FADT through the relocated RSDP and XSDT"
dsdt_len=$(sed -n 's/^ACPI: parse DSDT at 0x[0-9a-f]* (len \([0-9]*\))/\1/p' "$D")
[ -n "$dsdt_len" ] && [ "$dsdt_len" -gt 2000 ] ||
    fail "bios: SeaBIOS did not parse our DSDT (len '${dsdt_len}')"
grep -q "^PS2 keyboard initialized" "$D" ||
    fail "bios: SeaBIOS skipped the PS/2 keyboard (no PNP0303 in the DSDT?)"
if grep -n "WARNING\|parse error\|overrun" "$D" >"$T/bad"; then
    fail "bios: SeaBIOS complained:$(head -3 "$T/bad" | sed 's/^/\n    /')"
fi
re='Machine UUID [0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
uuid1=$(tr -d '\r' <"$T/serial.1" | grep -aoE "$re")
uuid2=$(tr -d '\r' <"$T/serial.2" | grep -aoE "$re")
[ -n "$uuid1" ] || fail "bios: no SMBIOS 'Machine UUID' (version 8, derived) on serial"
[ "$uuid1" = "$uuid2" ] || fail "bios: the UUID changed between boots: '$uuid1' vs '$uuid2'"
if [ $fails -ne 0 ]; then
    echo "    debug log:"
    sed 's/^/    /' "$D" | head -40
else
    echo "firmware_tables: SeaBIOS loaded our ACPI (DSDT $dsdt_len bytes) and SMBIOS ($uuid1) in $t_bios ms"
fi

# ---- direct boot: Linux reads the same tables ------------------------------
. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load firmware-tables "$T"
case $? in 2) exit $((fails != 0)) ;; 1) exit 1 ;; esac
batch='for f in sys_vendor product_name bios_vendor product_uuid; do echo "dmi $f: $(cat /sys/class/dmi/id/$f)"; done'
batch="$batch; echo links: \$(ls /sys/bus/acpi/devices | grep -c PNP0C0F)"
batch="$batch; echo ps2: \$(ls /sys/bus/acpi/devices | grep -c 'PNP0303\|PNP0F13')"
pcitest=()
if [ -d "$TOP/plugins/devices/pcitest" ]; then
    pcitest=(--device pcitest)
    batch="$batch; d=/sys/bus/pci/devices/0000:00:02.0; echo 1 >\$d/enable; echo pcitest-irq \$(cat \$d/irq)"
else
    echo "firmware_tables: note: no plugins/devices/pcitest in this tree: the PCI interrupt route is not checked"
fi
cmdline=$("$TOP/tools/guestkit/guestkit.sh" cmdline --batch "$batch" --debug-exit) ||
    { echo "FAIL: guestkit cmdline"; exit 1; }
cmdline="${cmdline/quiet/ignore_loglevel}"
t0=$(ms)
timeout $((120 * S)) "$VM" --engine rem --memory 256 --kernel "$kit_vmlinux" --initrd "$kit_initrd" \
    --append "$cmdline" --serial stdio --debug-exit "${pcitest[@]}" </dev/null >"$T/linux" 2>&1
rc=$?
t_linux=$(($(ms) - t0))
[ $rc -eq 1 ] || fail "linux: capsule-vm exited $rc, want 1 (debug-exit of rc 0)"
for want in "dmi sys_vendor: Capsule" "dmi product_name: Capsule Virtual Machine" \
    "dmi bios_vendor: Capsule" "links: 4" "ps2: 2" "serio: i8042 AUX port at 0x60,0x64 irq 12" \
    "root bus resource [mem 0x10000000-0xfebfffff window]" \
    "root bus resource [io  0x0d00-0xffff window]"; do
    grep -qF -- "$want" "$T/linux" || fail "linux: output lacks '$want'"
done
if [ ${#pcitest[@]} -ne 0 ]; then
    irq=$(sed -n 's/^pcitest-irq \([0-9]*\).*/\1/p' "$T/linux")
    case "$irq" in
    5 | 10 | 11) ;;
    *) fail "linux: pcitest's INTA got IRQ '$irq', want one of LNKC's _PRS (5, 10, 11)" ;;
    esac
    grep -qF "pci0: PIRQC# routed to IRQ $irq" "$T/linux" ||
        fail "linux: _SRS did not route PIRQC# to IRQ $irq in the PIIX3"
    grep -qF "ACPI: \_SB_.LNKC: Enabled at IRQ $irq" "$T/linux" ||
        fail "linux: the kernel did not enable LNKC at IRQ $irq"
fi
grep -qE "dmi product_uuid: [0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab]" "$T/linux" ||
    fail "linux: no derived (version 8) UUID in /sys/class/dmi/id/product_uuid"
if grep -nE 'ACPI BIOS|ACPI Error|ACPI Warning|Oops|Call Trace|Kernel panic' "$T/linux" >"$T/bad"; then
    fail "linux: the kernel log shows trouble:$(head -5 "$T/bad" | sed 's/^/\n    /')"
fi

# ---- a managed VM: the machine's own UUID ------------------------------------
muuid=
if [ ! -x "$B/bin/capsule-svc" ]; then
    echo "firmware_tables: note: no capsule-svc in this build: the managed VM's UUID is not checked"
else
    export CAPSULE_HOME=$T/home CAPSULE_SVC_IDLE_TIMEOUT=2000
    CAP=$B/bin/capsule
    mkdir -p "$CAPSULE_HOME"
    cmdline=$("$TOP/tools/guestkit/guestkit.sh" cmdline --debug-exit \
        --batch 'echo "dmi product_uuid: $(cat /sys/class/dmi/id/product_uuid)"') ||
        { echo "FAIL: guestkit cmdline"; exit 1; }
    if "$CAP" createvm --name fwtables --register >/dev/null &&
        "$CAP" modifyvm fwtables --engine rem --memory 256 --kernel "$kit_vmlinux" \
            --initrd "$kit_initrd" --cmdline "$cmdline" --debugexit on --uart1 0x3f8 4 \
            --uartmode1 file "$T/managed.serial" &&
        "$CAP" startvm fwtables --type headless >/dev/null &&
        "$CAP" waitfor fwtables --state poweroff --timeout $((120 * S)) >/dev/null; then
        muuid=$("$CAP" showvminfo fwtables --machinereadable | sed -n 's/^UUID="\(.*\)"$/\1/p')
        grep -qF "dmi product_uuid: $muuid" "$T/managed.serial" ||
            fail "managed: the guest's product_uuid is not the machine's UUID '$muuid':$(grep -a 'dmi' "$T/managed.serial")"
    else
        fail "managed: the VM did not start and power off"
    fi
fi

if [ $fails -ne 0 ]; then
    grep -E "dmi|links|ACPI|pci_bus|DMI|pcitest|PIRQ" "$T/linux" | head -40 | sed 's/^/    /'
    echo "firmware_tables: $fails failure(s)"
    exit 1
fi
echo "firmware_tables: Linux (direct boot) read SMBIOS and the DSDT in $t_linux ms${muuid:+; a managed VM sees its UUID $muuid}"
echo "firmware_tables: ok"
