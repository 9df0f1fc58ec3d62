#!/bin/bash
# Installs what is missing, builds Capsule, checks the format of what this
# checkout changed (tools/format_check.sh: clang-format on the lines changed
# since the merge base with main) and runs every test: the unit and
# integration tests, the same again under ASan+UBSan, the Windows (WHP)
# backend cross-compiled with mingw-w64 (compile-only), and each fuzzer for a
# bounded time (FUZZTIME seconds, default 20). Test parts that need what
# this host lacks (/dev/kvm) are skipped, and the last lines say how many
# and why ("skipped: N (...)"), per test run; CAPSULE_REQUIRE_KVM=1 makes a
# missing /dev/kvm fail instead (see tools/setup.sh). Then the 10 slowest
# tests of each run (tools/check_times.py), to see where the time goes.
set -eu
. "$(dirname "$0")/tools/setup.sh"
setup
step "format of changed lines (clang-format)" tools/format_check.sh
step "tests (scons check)" scons -Q -j"$JOBS" check
# The ASan pass leaves out test parts that would only run code again which
# faster tests run under ASan too: each entry says what covers it. Named
# here and printed, never silent; `scons asan=1 check` by hand runs all.
asan_leaves_out="disk-boot's SATA and virtio disk boots (covered by ahci, virtio: SeaBIOS\
 boots from those controllers; ahci-linux, virtio-linux: Linux's drivers on them; disk-boot\
 keeps its IDE disk and CD-ROM boots: BIOS -> syslinux/isolinux -> Linux); net-linux's and\
 net-linux-e1000's Linux boots on virtio-net and the e1000 (covered by net-hostile: the\
 devices and the NAT under lying guests; dev-virtionet, dev-e1000: the devices' unit tests);\
 demo-screen's text-mode VGA boot (covered by screenshot, vrde, sdl-window: the display's\
 frontends; vga-linux: a Linux console on the VGA); pci-linux's boot (covered by virtio-linux,\
 ahci-linux, vga-linux: Linux enumerates the bus and assigns BARs in each; unit tests pci,\
 platform); linux-raw's boot under --engine raw (covered by raw: the engine's unit tests, a user\
 program on KVM; guests-raw: the payloads under raw)"
echo "ASan pass leaves out: $asan_leaves_out"
step "tests under ASan+UBSan" env DISK_BOOT_CONTROLLERS=ide \
    CAPSULE_LEAVE_OUT="net-linux net-linux-e1000 demo-screen pci-linux linux-raw" \
    scons -Q -j"$JOBS" asan=1 check
step "windows cross-build (mingw-w64)" scons -Q -j"$JOBS" windows
step "fuzzers (${FUZZTIME:-20} s each)" scons -Q -j"$JOBS" fuzz FUZZTIME="${FUZZTIME:-20}"
echo "check: all passed"
skips_summary build "tests (scons check)"
skips_summary build-asan "tests under ASan+UBSan"
times_summary build "in scons check"
times_summary build-asan "in scons asan=1 check"
echo "ASan pass left out: $asan_leaves_out"
