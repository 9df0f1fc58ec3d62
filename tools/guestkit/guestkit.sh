#!/bin/bash
# tools/guestkit/guestkit.sh - builds Capsule's default guest on this machine
# from Debian packages: Debian's own kernel and a busybox initramfs.
#
#   guestkit.sh [build] [--out DIR] [--force | --cached]
#       Makes sure DIR (default $CAPSULE_GUEST_DIR, else BUILD/guest with
#       BUILD the project's build/) holds
#         vmlinuz     the kernel of linux-image-amd64's current dependency
#                     (linux-image-6.1.0-N-amd64), taken out of the package
#                     with dpkg-deb; nothing is installed, /boot is untouched
#         initrd.gz   a gzip'd cpio (newc) archive: busybox from
#                     busybox-static, its applet links, and this folder's
#                     init, profile, inittab and console
#         modules.gz  a second gzip'd cpio archive, for the boot media
#                     (mkiso.sh, mkdisk.sh; the loader appends it to
#                     initrd.gz): the kernel's disk drivers - ATA (PIIX, AHCI),
#                     SCSI disk and CD-ROM, virtio PCI and block - and the
#                     virtio-input tablet's (virtio_input, evdev) and
#                     the network adapters' (virtio_net; e1000 for the
#                     Intel 82540EM), with
#                     everything they need, in /lib/modules/RELEASE, and
#                     /lib/modules/capsule.load naming them in loading order
#                     (the init insmods them when that file is there)
#       and prints, on stdout, one key=value line each (for scripts):
#         vmlinux     the same kernel uncompressed (ELF64), extracted from
#                     vmlinuz by extract-vmlinux.py; capsule-vm boots it
#                     through the 64-bit boot protocol without running the
#                     bzImage's decompressor (about a billion instructions
#                     less under rem)
#         kernel=/abs/path/vmlinuz
#         vmlinux=/abs/path/vmlinux
#         initrd=/abs/path/initrd.gz
#         modules=/abs/path/modules.gz
#         cmdline=console=tty0 console=ttyS0 quiet cryptomgr.notests
#                                          (the default kernel command line)
#         release=6.1.0-N-amd64            (the kernel's uname -r)
#       Progress and errors go to stderr. Each part is rebuilt only when it
#       is missing, when apt's candidate version of its package changed,
#       (the kernel's modules.gz) when the module list changed, or (the
#       initramfs) when this kit changed; --force rebuilds both. With
#       no usable package index the cached guest is used as it is.
#       --cached takes a complete guest built by this kit as it is, without
#       asking apt about newer packages (about a second less; mkiso.sh,
#       mkdisk.sh); a missing or outdated part is built as without it.
#
#   guestkit.sh cmdline [--batch CMD] [--debug-exit]
#       Prints the kernel command line for the guest: the default one plus
#       capsule.batch=BASE64(CMD) (the init runs CMD, prints its output
#       between "=== capsule-batch begin ===" and "=== capsule-batch end
#       rc=N ===" and powers off) and capsule.debugexit=1 (the init also
#       writes N to port 0xf4 first). The kernel's command line holds at
#       most 2047 bytes, so CMD is limited to about 1400 bytes.
#
# Needs apt-get, apt-cache, dpkg-deb, tar, python3 and flock; never root
# (only the package index must be current: `sudo apt-get update`).
# Exit status: 0, 1 on a failure (what failed and why on stderr), 2 on bad
# arguments.
set -eu -o pipefail

PROG=guestkit
USAGE="guestkit.sh [build] [--out DIR] [--force | --cached]
       guestkit.sh cmdline [--batch CMD] [--debug-exit]"
# KIT_DIR, TOP, err, say, usage_error, stamp_get, parse_out.
. "$(dirname "${BASH_SOURCE[0]}")/imagelib.sh"
KERNEL_META=linux-image-amd64
# The drivers modules.gz carries (their dependencies come along): the disk
# and CD-ROM controllers Capsule and QEMU give a guest, and the virtio-input
# tablet with evdev (/dev/input/event*; Debian builds both as modules), and
# the network adapters' drivers: virtio-net's virtio_net (net_failover and
# failover with it) and the Intel 82540EM's e1000.
DISK_MODULES="ata_piix ahci crct10dif_generic sd_mod sr_mod virtio_pci virtio_blk"
INPUT_MODULES="virtio_input evdev"
NET_MODULES="virtio_net e1000"
KIT_MODULES="$DISK_MODULES $INPUT_MODULES $NET_MODULES"
# Where they and their dependencies are in the package (the only parts of
# its 400 MB of modules that are unpacked).
MODULE_DIRS="drivers/ata drivers/scsi drivers/cdrom drivers/block drivers/virtio drivers/input drivers/net net/core lib crypto block"
BUSYBOX_PKG=busybox-static
# Boot options the default guest needs, for every engine. Keep them here
# only (quickstart, tests and the benchmark read them from `cmdline=`).
#   console=tty0       the kernel's messages on the screen too, when the
#                      machine has one (capsule's default VGA: a direct boot
#                      finds it in text mode and vgacon draws there; tty1
#                      has a shell of its own, inittab); nothing without one
#   console=ttyS0      the serial port is the guest's console: named last, it
#                      is /dev/console, where /init and the login shell talk
#   quiet              only warnings and worse on the console
#   cryptomgr.notests  skips the self-tests of the kernel's crypto algorithms
#                      at boot: ~6 s of pure computation (a third of the boot)
#                      under the software CPU. tests/integration/linux_rem.sh
#                      boots once with them on, as a check of rem itself.
DEFAULT_CMDLINE="console=tty0 console=ttyS0 quiet cryptomgr.notests"

# ---- cmdline --------------------------------------------------------------

cmd_cmdline() {
    local batch= have_batch=0 debugexit=0 line=$DEFAULT_CMDLINE
    while [ $# -gt 0 ]; do
        case $1 in
        --batch)
            [ $# -ge 2 ] || usage_error "--batch needs a command"
            batch=$2 have_batch=1
            shift 2
            ;;
        --batch=*) batch=${1#--batch=} have_batch=1 && shift ;;
        --debug-exit) debugexit=1 && shift ;;
        *) usage_error "cmdline: unexpected argument '$1'" ;;
        esac
    done
    if [ $have_batch = 1 ]; then
        [ -n "$batch" ] || usage_error "--batch: the command is empty"
        line="$line capsule.batch=$(printf '%s' "$batch" | base64 -w0)"
    fi
    [ $debugexit = 1 ] && line="$line capsule.debugexit=1"
    if [ ${#line} -gt 2047 ]; then
        err "the kernel command line would be ${#line} bytes (at most 2047): shorten the batch command"
        exit 1
    fi
    printf '%s\n' "$line"
}

# ---- build ----------------------------------------------------------------

# "PKG VERSION" lines: the candidate version apt would fetch of each package
# named (one apt-cache run: each costs about a second); none for a package
# apt does not know or has no candidate of.
candidates() {
    apt-cache policy "$@" 2>/dev/null |
        awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) }
             /^ *Candidate:/ { if ($2 != "(none)") print p, $2 }'
}

# The versioned kernel package linux-image-amd64 depends on.
kernel_package() {
    apt-cache depends "$KERNEL_META" 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# fetch PKG VERSION DIR: downloads PKG=VERSION into DIR.
fetch() {
    local log=$3/apt-$1.log
    say "downloading $1 $2"
    # As root apt warns that its sandbox user cannot write DIR; harmless.
    if ! (cd "$3" && apt-get download -q "$1=$2") >"$log" 2>&1; then
        err "cannot download $1 ($2):"
        grep -v 'unsandboxed as root' "$log" | sed 's/^/  /' >&2
        err "the package index may be stale or the mirror unreachable: run 'sudo apt-get update' and retry"
        return 1
    fi
}

# The hash of what the initramfs is made of besides busybox.
kit_hash() {
    cat "$KIT_DIR/init" "$KIT_DIR/profile" "$KIT_DIR/inittab" "$KIT_DIR/console" "$KIT_DIR/mkinitramfs.py" "$KIT_DIR/guestkit.sh" | sha256sum | cut -c1-16
}

build_kernel() { # build_kernel PKG VERSION
    local tmp=$OUT/.tmp-kernel
    rm -rf "$tmp" && mkdir -p "$tmp"
    fetch "$1" "$2" "$tmp" || return 1
    local deb
    deb=$(ls "$tmp"/*.deb)
    # The kernel image and the module folders the disk drivers come from;
    # the rest of the package's 400 MB of modules stays packed.
    local d pats=("./boot/vmlinuz-*")
    for d in $MODULE_DIRS; do pats+=("./lib/modules/*/kernel/$d/*"); done
    if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "${pats[@]}" 2>"$tmp/tar.err" ||
        ! ls "$tmp"/boot/vmlinuz-* >/dev/null 2>&1; then
        err "$deb: no boot/vmlinuz-* in the package ($(head -1 "$tmp/tar.err"))"
        return 1
    fi
    local img
    img=$(ls "$tmp"/boot/vmlinuz-* | head -1)
    local release=${img##*/vmlinuz-}
    build_modules "$tmp/lib/modules/$release" "$release" || return 1
    mv "$img" "$OUT/vmlinuz" || return 1
    rm -f "$OUT/vmlinux"
    build_vmlinux || return 1
    printf 'package=%s\nversion=%s\nrelease=%s\nmodules=%s\n' "$1" "$2" "$release" "$KIT_MODULES" \
        >"$OUT/kernel.stamp"
    rm -rf "$tmp"
    say "kernel $release ($1 $2)"
}

# build_modules MODDIR RELEASE: modules.gz from the unpacked MODDIR: each
# of KIT_MODULES after the modules it depends on, capsule.load naming them
# in loading order (imagelib.sh's modules_cpio_list).
build_modules() {
    local order=$OUT/.tmp-kernel/capsule.load list=$OUT/.tmp-kernel/modules.list
    modules_cpio_list "$1" "$2" "$order" $KIT_MODULES >"$list" || return 1
    python3 "$KIT_DIR/mkinitramfs.py" "$list" "$OUT/modules.gz" || return 1
    say "disk and input drivers: $(wc -l <"$order") modules, $(stat -c %s "$OUT/modules.gz") bytes"
}

# vmlinux from vmlinuz (about 3 s: an xz payload of ~8 MB).
build_vmlinux() {
    python3 "$KIT_DIR/extract-vmlinux.py" "$OUT/vmlinuz" "$OUT/vmlinux"
}

build_initrd() { # build_initrd VERSION HASH
    local tmp=$OUT/.tmp-initrd
    rm -rf "$tmp" && mkdir -p "$tmp"
    fetch "$BUSYBOX_PKG" "$1" "$tmp" || return 1
    dpkg-deb -x "$tmp"/*.deb "$tmp/x" || return 1
    local bb=$tmp/x/bin/busybox
    if [ ! -x "$bb" ]; then
        err "$BUSYBOX_PKG $1 has no bin/busybox"
        return 1
    fi
    write_list "$bb" >"$tmp/list" || return 1
    python3 "$KIT_DIR/mkinitramfs.py" "$tmp/list" "$OUT/initrd.gz" || return 1
    printf 'busybox=%s\nkit=%s\n' "$1" "$2" >"$OUT/initrd.stamp"
    rm -rf "$tmp"
    say "initramfs: busybox $1, $(stat -c %s "$OUT/initrd.gz") bytes"
}

# write_list BUSYBOX: the initramfs's file list (mkinitramfs.py's format).
write_list() {
    local d
    for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /root /etc; do
        echo "dir $d 0755 0 0"
    done
    # The kernel opens /dev/console for init before anything is mounted.
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "file /bin/busybox $1 0755 0 0"
    echo "file /init $KIT_DIR/init 0755 0 0"
    echo "file /etc/profile $KIT_DIR/profile 0644 0 0"
    echo "file /etc/inittab $KIT_DIR/inittab 0644 0 0"
    echo "file /sbin/capsule-console $KIT_DIR/console 0755 0 0"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$OUT/.tmp-initrd/passwd"
    printf 'root:x:0:\n' >"$OUT/.tmp-initrd/group"
    echo "file /etc/passwd $OUT/.tmp-initrd/passwd 0644 0 0"
    echo "file /etc/group $OUT/.tmp-initrd/group 0644 0 0"
    # Applet links, if this host can run the (x86-64) binary; else the
    # init's shell finds applets itself (busybox sh runs them by name).
    local a
    if "$1" --list-full >"$OUT/.tmp-initrd/applets" 2>/dev/null; then
        while read -r a; do
            [ "$a" = bin/busybox ] && continue
            echo "slink /$a /bin/busybox 0777 0 0"
        done <"$OUT/.tmp-initrd/applets"
    else
        echo "slink /bin/sh /bin/busybox 0777 0 0"
    fi
}

print_result() {
    echo "kernel=$OUT/vmlinuz"
    echo "vmlinux=$OUT/vmlinux"
    echo "initrd=$OUT/initrd.gz"
    echo "modules=$OUT/modules.gz"
    echo "cmdline=$DEFAULT_CMDLINE"
    echo "release=$(stamp_get "$OUT/kernel.stamp" release)"
}

cmd_build() {
    local force cached=0 a
    parse_out "$@" # OUT (created), FORCE, REST
    force=$FORCE
    for a in ${REST[@]+"${REST[@]}"}; do
        case $a in
        --cached) cached=1 ;;
        *) usage_error "build: unexpected argument '$a'" ;;
        esac
    done
    local t
    for t in apt-get apt-cache dpkg-deb tar python3 flock sha256sum; do
        command -v "$t" >/dev/null || { err "'$t' is not installed"; exit 1; }
    done
    # One build at a time per directory (quickstart and check may race).
    exec 9>"$OUT/.lock"
    flock 9
    trap 'rm -rf "$OUT/.tmp-kernel" "$OUT/.tmp-initrd" "$OUT/vmlinux.tmp"' EXIT

    local kpkg kver bver hash
    local cands
    hash=$(kit_hash)
    if [ $cached = 1 ] && [ $force = 0 ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/vmlinux" ] &&
        [ -s "$OUT/modules.gz" ] &&
        [ -s "$OUT/initrd.gz" ] && [ -n "$(stamp_get "$OUT/kernel.stamp" release)" ] &&
        [ "$(stamp_get "$OUT/kernel.stamp" modules)" = "$KIT_MODULES" ] &&
        [ "$(stamp_get "$OUT/initrd.stamp" kit)" = "$hash" ]; then
        print_result
        return 0
    fi
    # apt-cache fails outright without a package index: that is handled below.
    kpkg=$(kernel_package || true)
    cands=$(candidates $kpkg "$BUSYBOX_PKG" || true)
    kver=$(echo "$cands" | awk -v p="$kpkg" '$1 == p { print $2 }')
    bver=$(echo "$cands" | awk -v p="$BUSYBOX_PKG" '$1 == p { print $2 }')
    if [ -z "$kpkg" ] || [ -z "$kver" ] || [ -z "$bver" ]; then
        if [ $force = 0 ] && [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ]; then
            say "warning: apt does not know $KERNEL_META or $BUSYBOX_PKG; using the cached guest"
            [ -s "$OUT/vmlinux" ] || build_vmlinux || exit 1
            [ "$(stamp_get "$OUT/initrd.stamp" kit)" = "$hash" ] ||
                say "warning: the cached initramfs was built by another version of this kit"
            print_result
            return 0
        fi
        [ -z "$kpkg" ] && err "apt knows no package $KERNEL_META (or no linux-image-N dependency of it)"
        [ -n "$kpkg" ] && [ -z "$kver" ] && err "apt has no candidate version of $kpkg"
        [ -z "$bver" ] && err "apt has no candidate version of $BUSYBOX_PKG"
        err "run 'sudo apt-get update' (and check /etc/apt/sources.list has Debian's main) and retry"
        exit 1
    fi

    if [ $force = 1 ] || [ ! -s "$OUT/vmlinuz" ] || [ ! -s "$OUT/modules.gz" ] ||
        [ "$(stamp_get "$OUT/kernel.stamp" package)" != "$kpkg" ] ||
        [ "$(stamp_get "$OUT/kernel.stamp" version)" != "$kver" ] ||
        [ "$(stamp_get "$OUT/kernel.stamp" modules)" != "$KIT_MODULES" ]; then
        rm -f "$OUT/kernel.stamp"
        build_kernel "$kpkg" "$kver" || exit 1
    fi
    [ -s "$OUT/vmlinux" ] || build_vmlinux || exit 1
    if [ $force = 1 ] || [ ! -s "$OUT/initrd.gz" ] ||
        [ "$(stamp_get "$OUT/initrd.stamp" busybox)" != "$bver" ] ||
        [ "$(stamp_get "$OUT/initrd.stamp" kit)" != "$hash" ]; then
        rm -f "$OUT/initrd.stamp"
        build_initrd "$bver" "$hash" || exit 1
    fi
    print_result
}

case ${1:-build} in
build) [ $# -gt 0 ] && shift; cmd_build "$@" ;;
cmdline) shift; cmd_cmdline "$@" ;;
-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
-*) cmd_build "$@" ;;
*) usage_error "unknown command '$1' (build or cmdline)" ;;
esac
