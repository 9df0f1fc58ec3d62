#!/bin/bash
# tests/integration/csam_linux.sh - CSAM's scanner over a real kernel: the
# guest kit's Debian vmlinux (tools/guestkit), scanned by capsule-csam from
# its ELF entry, every exported function (the kit's vmlinux is stripped: the
# export table is the one symbol table it keeps) and the handlers of the
# kernel's static IDT tables (struct idt_data, found by their shape; the
# syscall entry is not among them and not exported). Checks that
#   - the IDT tables are found (at least the 20 exception vectors);
#   - the scan covers the kernel's code (more than 1000 pages, 500 000
#     instructions) within the default limits (no path ended by a limit);
#   - every byte sequence on a path decodes (a failure lists them: a gap of
#     vmm/dis that raw mode would have to leave to rem);
#   - the kinds a 64-bit Linux kernel must contain are found (pushf, popf,
#     cli, iret, swapgs, port I/O, CR and MSR accesses, cpuid, lgdt/lidt);
#   - each listed sensitive instruction is the instruction objdump decodes
#     at that address (the first 60 that are not ud2/int3), when objdump is
#     installed;
# and prints the counts per kind. The kit comes from Debian's archive: a
# host where it cannot be fetched FAILS (as linux-rem); only a host without
# Debian's tools skips, loudly. About 2 s once the kit is cached.
set -u
B=${CAPSULE_BUILD:?CAPSULE_BUILD must name the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CSAM=$B/bin/capsule-csam
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$TOP/tests/lib/skip.sh"
. "$TOP/tests/lib/guestkit.sh"
guestkit_load csam-linux "$tmp"
case $? in 2) exit 0 ;; 1) exit 1 ;; esac

start=$(date +%s%N)
if ! timeout $((60 * ${CAPSULE_TIMEOUT_SCALE:-1})) "$CSAM" --exports --idt --list "$kit_vmlinux" >"$tmp/scan" 2>"$tmp/err"; then
    echo "FAIL: capsule-csam --exports --idt on $kit_vmlinux:"
    cat "$tmp/err"
    exit 1
fi
ms=$((($(date +%s%N) - start) / 1000000))
val() { awk -v k="$1" '$1 == k && NF == 2 { print $2 }' "$tmp/scan"; }
kind() { awk -v k="$1" '$1 == "sensitive" && $2 == k { print $3 }' "$tmp/scan"; }

echo "Debian $kit_release, from the ELF entry, exported symbols and $(val idt-gates) IDT gates ($(val roots) roots), in $ms ms:"
echo "  $(val pages) pages, $(val insns) instructions, $(val cross-page) crossing a page, $(kind total) sensitive"
grep '^sensitive' "$tmp/scan" | awk '{ printf "  %-10s %s\n", $2, $3 }' | paste - - - - | sed 's/^/ /'

[ "$(val idt-gates)" -ge 20 ] || fail "only $(val idt-gates) IDT gates found in the kernel's idt_data tables"
[ "$(val pages)" -gt 1000 ] || fail "only $(val pages) pages scanned"
[ "$(val insns)" -gt 500000 ] || fail "only $(val insns) instructions decoded"
[ "$(val limits)" = 0 ] || fail "$(val limits) paths ended by a limit of the default tables"
if [ "$(val invalid)" != 0 ]; then
    fail "$(val invalid) byte sequences on the kernel's paths do not decode (vmm/dis gaps):"
    grep ' invalid ' "$tmp/scan" | head -20
fi
for k in pushf popf cli iret swapgs io cr msr cpuid desc-load; do
    n=$(kind $k)
    [ "${n:-0}" -gt 0 ] || fail "no '$k' instruction found"
done

# An independent decoder's view of what CSAM listed.
if command -v objdump >/dev/null; then
    checked=0
    while read -r addr k text; do
        [ $checked -ge 60 ] && break
        case $k in ud | int | invalid) continue ;; esac
        mn=${text%% *}
        got=$(objdump -d -M intel --start-address=0x$addr --stop-address=$((0x$addr + 16)) \
            "$kit_vmlinux" | awk -F'\t' -v a="${addr#ffffffff}" '$1 ~ a":" { split($3, w, " "); print w[1]; exit }')
        # objdump names the 64-bit forms (iretq, pushfq, sysretq, xrstors64...)
        # and AMD's rep vmmcall "vmgexit"
        [ "$text" = "repz vmmcall" ] && mn=vmgexit
        case $got in "$mn" | "$mn"q | "$mn"64) ;; *) fail "$addr: CSAM lists '$text' ($k), objdump decodes '$got'" ;; esac
        checked=$((checked + 1))
    done < <(grep -E '^[0-9a-f]{16} ' "$tmp/scan")
    echo "  objdump agrees on $checked listed instructions"
else
    echo "  (objdump not installed: the listing is not cross-checked)"
fi

[ $fails = 0 ] && echo "csam-linux: PASS" || echo "csam-linux: $fails failure(s)"
[ $fails = 0 ]
