# tests/lib/guestkit.sh - sourced by the test scripts that boot the guest kit
# (tools/guestkit): one way to get it and one policy when it is missing.
# Needs TOP (the source tree) and tests/lib/skip.sh sourced first.
#
# guestkit_load TEST DIR
#   Builds the kit, or takes it from its cache (build/guest or
#   $CAPSULE_GUEST_DIR), with DIR for scratch files, and sets kit_vmlinux,
#   kit_initrd, kit_cmdline and kit_release. Returns 0; 2 when the host
#   lacks Debian's tools (the test is recorded as skipped: not a Debian
#   host); 1 when the kit cannot be built - its packages come from Debian's
#   archive, so that is a failure, printed, never a skip.
guestkit_load() {
    local t
    for t in apt-get dpkg-deb; do
        if ! command -v $t >/dev/null; then
            test_skip "$1" "needs Debian's $t to build the guest kit (not a Debian host)"
            return 2
        fi
    done
    if ! "$TOP/tools/guestkit/guestkit.sh" >"$2/kit" 2>"$2/kit.err"; then
        echo "FAIL: the guest kit could not be built:"
        sed 's/^/  /' "$2/kit.err"
        return 1
    fi
    kit_vmlinux=$(sed -n 's/^vmlinux=//p' "$2/kit")
    kit_initrd=$(sed -n 's/^initrd=//p' "$2/kit")
    kit_cmdline=$(sed -n 's/^cmdline=//p' "$2/kit")
    kit_release=$(sed -n 's/^release=//p' "$2/kit")
    if [ ! -s "$kit_vmlinux" ] || [ ! -s "$kit_initrd" ]; then
        echo "FAIL: the guest kit printed no vmlinux/initrd"
        return 1
    fi
}

# guestkit_modules DIR
#   After guestkit_load with DIR: the kit's initramfs with its modules.gz
#   (disk and input drivers, which the init insmods before the batch
#   command) appended, as DIR/initrd-modules; sets kit_initrd_modules.
#   Returns 1 (printed) when the kit has no modules.gz.
guestkit_modules() {
    local modules
    modules=$(sed -n 's/^modules=//p' "$1/kit")
    if [ ! -s "$modules" ]; then
        echo "FAIL: the guest kit printed no modules.gz (its disk and input drivers)"
        return 1
    fi
    kit_initrd_modules=$1/initrd-modules
    cat "$kit_initrd" "$modules" >"$kit_initrd_modules"
}

# guestkit_media TEST DIR TOOL...
#   For tests that build boot media from the kit (tools/guestkit/mkdisk.sh,
#   mkiso.sh): skips (recorded, returns 2) when a TOOL is missing (tools/
#   setup.sh installs them), loads the kit (guestkit_load's returns), then
#   copies its cached parts into DIR/g and exports CAPSULE_GUEST_DIR there,
#   where the scripts find them current (their stamps) and build next to
#   them. Sets G (that folder) and kdir (the kit's own cache folder).
guestkit_media() {
    local test=$1 dir=$2 t f rc
    shift 2
    for t in "$@"; do
        if ! command -v "$t" >/dev/null; then
            test_skip "$test" "needs $t (tools/setup.sh installs the image tools)"
            return 2
        fi
    done
    guestkit_load "$test" "$dir"
    rc=$?
    [ $rc = 0 ] || return $rc
    G=$dir/g
    mkdir -p "$G"
    kdir=$(dirname "$kit_vmlinux")
    for f in vmlinuz vmlinux initrd.gz modules.gz kernel.stamp initrd.stamp; do
        cp -l "$kdir/$f" "$G/" 2>/dev/null || cp "$kdir/$f" "$G/"
    done
    export CAPSULE_GUEST_DIR=$G MTOOLS_SKIP_CHECK=1
}
