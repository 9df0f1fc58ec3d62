# tools/guestkit/imagelib.sh - what guestkit.sh, mkiso.sh, mkdisk.sh and
# mkdebian.sh share: messages, the cache folder and its options, stamps, and
# a bootable MBR disk put together without root, loop devices or mounts
# (sfdisk on a file, mkfs.fat + mtools + syslinux's mtools installer for the
# boot partition, mke2fs -d for a root partition).
#
# Sourced, not run. Callers set -eu -o pipefail and define PROG (their name
# for messages) and USAGE (their usage line) before sourcing.

KIT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$KIT_DIR/../.." && pwd)
GUESTKIT=$KIT_DIR/guestkit.sh
# Debian's syslinux, isolinux and syslinux-common put their files here.
SYSLINUX_MBR=/usr/lib/syslinux/mbr/mbr.bin
ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
ISOHYBRID_MBR=/usr/lib/ISOLINUX/isohdpfx.bin
SYSLINUX_MODULES=/usr/lib/syslinux/modules/bios
# The MBR's disk signature of every image these scripts make (fixed: the
# images are reproducible and a root=PARTUUID=... would stay valid).
DISK_ID=0xcab51e00
# mtools checks the FAT's geometry against the disk's; an image file has none.
export MTOOLS_SKIP_CHECK=1

err() { echo "$PROG: error: $*" >&2; }
say() { echo "$PROG: $*" >&2; }
usage_error() {
    err "$*"
    echo "usage: $USAGE" >&2
    exit 2
}

# need TOOL:PACKAGE...: fails naming the Debian package of each missing tool
# or file (tools/setup.sh installs them all).
need() {
    local t p missing=
    for t in "$@"; do
        p=${t#*:} t=${t%%:*}
        case $t in
        /*) [ -e "$t" ] || missing="$missing $p" ;;
        *) command -v "$t" >/dev/null || missing="$missing $p" ;;
        esac
    done
    if [ -n "$missing" ]; then
        err "missing Debian packages:$missing (tools/setup.sh installs them: sudo apt-get install$missing)"
        exit 1
    fi
}

# parse_out ARGS...: the common options --out DIR and --force (and --help);
# sets OUT (absolute, created) and FORCE. Other arguments are left in REST
# (an array).
parse_out() {
    OUT=${CAPSULE_GUEST_DIR:-$TOP/build/guest}
    FORCE=0
    REST=()
    while [ $# -gt 0 ]; do
        case $1 in
        --out)
            [ $# -ge 2 ] && [ -n "$2" ] || usage_error "--out needs a directory"
            OUT=$2
            shift 2
            ;;
        --out=*) OUT=${1#--out=} && shift ;;
        --force) FORCE=1 && shift ;;
        -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
        *) REST+=("$1") && shift ;;
        esac
    done
    mkdir -p "$OUT" || { err "cannot create $OUT"; exit 1; }
    OUT=$(cd "$OUT" && pwd)
}

# parse_variant DEFAULT ARGS...: mkiso.sh's and mkdisk.sh's --name NAME
# (default DEFAULT) and --append ARGS, after parse_out; then the guest kit
# (kit). Sets name and cmdline: the kit's command line plus ARGS, at most
# the 2047 bytes an x86 kernel takes.
parse_variant() {
    local append=
    name=$1
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --name) [ $# -ge 2 ] || usage_error "--name needs a name"; name=$2; shift 2 ;;
        --name=*) name=${1#--name=}; shift ;;
        --append) [ $# -ge 2 ] || usage_error "--append needs kernel arguments"; append=$2; shift 2 ;;
        --append=*) append=${1#--append=}; shift ;;
        *) usage_error "unexpected argument '$1'" ;;
        esac
    done
    case $name in '' | */* | .*) usage_error "--name: '$name' is not a plain file name" ;; esac
    kit
    cmdline=$KIT_CMDLINE${append:+ $append}
    if [ ${#cmdline} -gt 2047 ]; then
        err "the kernel command line would be ${#cmdline} bytes (at most 2047)"
        exit 1
    fi
}

# variant_hash SCRIPT: what a kit image is made of: the kit's parts (their
# stamps name the package versions and the kit's own hash), SCRIPT, this
# library and the command line.
variant_hash() {
    (cat "$OUT/kernel.stamp" "$OUT/initrd.stamp" "$KIT_DIR/$1" "$KIT_DIR/imagelib.sh"
        echo "$cmdline") | sha256sum | cut -c1-16
}

# lock NAME: one build of NAME at a time in OUT (held until the script ends).
lock() {
    exec 8>"$OUT/.$1.lock"
    flock 8
}

stamp_get() { # stamp_get FILE KEY
    [ -f "$1" ] && sed -n "s/^$2=//p" "$1" | head -1
}

# code_hash FILE...: a short hash of the files' code: comment lines and
# the result() function (what a script prints) left out, so that editing
# those does not rebuild an image.
code_hash() {
    sed '/^result() {/,/^}/d; /^ *#/d' "$@" | sha256sum | cut -c1-16
}

# kit: the guest kit as cached (guestkit.sh --cached: no apt queries when
# it is complete; guestkit.sh itself, which quickstart and the tests run,
# brings it up to date with apt), else built; sets KIT_KERNEL, KIT_INITRD,
# KIT_MODULES, KIT_CMDLINE and KIT_RELEASE. The kit's own stderr passes through.
kit() {
    local out
    out=$("$GUESTKIT" build --cached --out "$OUT") || { err "the guest kit (guestkit.sh) failed"; exit 1; }
    KIT_KERNEL=$(sed -n 's/^kernel=//p' <<<"$out")
    KIT_INITRD=$(sed -n 's/^initrd=//p' <<<"$out")
    KIT_MODULES=$(sed -n 's/^modules=//p' <<<"$out")
    if [ ! -s "$KIT_MODULES" ]; then
        err "the guest kit has no disk drivers ($KIT_MODULES): run tools/guestkit/guestkit.sh with a current package index"
        exit 1
    fi
    KIT_CMDLINE=$(sed -n 's/^cmdline=//p' <<<"$out")
    KIT_RELEASE=$(sed -n 's/^release=//p' <<<"$out")
}

# modules_cpio_list MODDIR RELEASE ORDER MODULE...: the mkinitramfs.py list
# entries that put each MODULE of MODDIR (a kernel's /lib/modules/RELEASE,
# whole or in part), after the modules it depends on, in the archive's
# /lib/modules/RELEASE, and ORDER as /lib/modules/capsule.load: their
# paths in loading order (the kit's init and debian-init insmod them). The
# dependencies are each module's .modinfo "depends=" (a kernel package has
# no modules.dep: depmod writes that when it is installed).
modules_cpio_list() {
    local dir=$1 rel=$2 order=$3 f m p d part seen=" "
    shift 3
    local -A path=() loaded=()
    while IFS= read -r f; do
        m=${f##*/} && m=${m%.ko} && path[${m//-/_}]=$f
    done < <(cd "$dir" && find kernel -name '*.ko')
    : >"$order"
    load_module() {
        local m=${1//-/_} d
        [ -n "${loaded[$m]:-}" ] && return 0
        loaded[$m]=1
        if [ -z "${path[$m]:-}" ]; then
            err "module $m is not in $dir"
            return 1
        fi
        for d in $(tr '\0' '\n' <"$dir/${path[$m]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do
            load_module "$d" || return 1
        done
        echo "${path[$m]}" >>"$order"
    }
    for m in "$@"; do load_module "$m" || return 1; done
    echo "dir /lib 0755 0 0"
    echo "dir /lib/modules 0755 0 0"
    while read -r p; do
        d=/lib/modules/$rel
        # Every folder on the way, once.
        for part in "" $(dirname "$p" | tr '/' ' '); do
            d=$d${part:+/$part}
            case $seen in *" $d "*) ;; *) echo "dir $d 0755 0 0" && seen="$seen$d " ;; esac
        done
        echo "file /lib/modules/$rel/$p $dir/$p 0644 0 0"
    done <"$order"
    echo "file /lib/modules/capsule.load $order 0644 0 0"
}

# syslinux_cfg LABEL KERNEL INITRD APPEND: a syslinux/isolinux configuration
# on stdout that boots KERNEL at once, with the loader's own messages on
# the first serial port (COM1, 115200 8N1) as well as the screen.
syslinux_cfg() {
    cat <<EOF
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT $1
LABEL $1
  KERNEL $2
  INITRD $3
  APPEND $4
EOF
}

# fat_part FILE MIB LABEL CFG FILE...: a FAT16 file system of MIB MiB in
# FILE, for a partition starting at sector 2048, holding syslinux (its boot
# sector and ldlinux.sys/ldlinux.c32, installed through mtools), CFG as
# /syslinux.cfg and each further FILE in its root (SRC or SRC=NAME).
fat_part() {
    local img=$1 mib=$2 label=$3 cfg=$4 f
    shift 4
    rm -f "$img"
    # -h: the partition's first sector, which syslinux's boot sector adds
    # to every sector it reads.
    mkfs.fat -F 16 -h 2048 -n "$label" -i cab51e00 -C "$img" $((mib * 1024)) >/dev/null
    mcopy -i "$img" "$cfg" ::/syslinux.cfg
    for f in "$@"; do
        case $f in
        *=*) mcopy -i "$img" "${f%%=*}" "::/${f#*=}" ;;
        *) mcopy -i "$img" "$f" ::/ ;;
        esac
    done
    syslinux --install "$img"
}

# mbr_disk DISK MIB BOOTPART [ROOTMKFS...]: a raw disk of MIB MiB in DISK
# (sparse), MBR-partitioned with syslinux's MBR boot code:
#   partition 1  FAT16 (LBA, type 0x0e), active, at sector 2048, the
#                contents of the file BOOTPART (from fat_part)
#   partition 2  Linux (0x83), the rest of the disk, only when ROOTMKFS is
#                given: a command that is run with the partition's byte
#                offset and size in KiB appended, and writes the file
#                system there (mke2fs -E offset=...).
mbr_disk() {
    local disk=$1 mib=$2 boot=$3 bsect p2start p2sect
    shift 3
    bsect=$(($(stat -c %s "$boot") / 512))
    rm -f "$disk"
    truncate -s "${mib}M" "$disk"
    p2start=$((2048 + bsect))
    p2sect=$((mib * 2048 - p2start))
    {
        echo "label: dos"
        echo "label-id: $DISK_ID"
        echo "start=2048, size=$bsect, type=e, bootable"
        [ $# -gt 0 ] && echo "start=$p2start, size=$p2sect, type=83"
    } | sfdisk --quiet --no-reread --no-tell-kernel "$disk" >/dev/null
    dd if="$SYSLINUX_MBR" of="$disk" bs=440 count=1 conv=notrunc status=none
    dd if="$boot" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
    if [ $# -gt 0 ]; then
        "$@" "$((p2start * 512))" "$((p2sect / 2))"
    fi
}

# to_vdi RAW VDI: the same disk as a dynamic VDI (VirtualBox's format), by
# qemu-img. (Capsule's own `capsule clonemedium RAW VDI --format VDI` makes
# the same from the CLI.)
to_vdi() {
    rm -f "$2"
    qemu-img convert -f raw -O vdi "$1" "$2.tmp"
    qemu-img check -q -f vdi "$2.tmp"
    mv "$2.tmp" "$2"
}

# check_mbr DISK: a fast sanity check of a finished disk: the boot
# signature, syslinux's MBR code and the first partition active.
check_mbr() {
    local sig
    sig=$(od -An -tx1 -j510 -N2 "$1" | tr -d ' ')
    [ "$sig" = 55aa ] || { err "$1: no MBR boot signature (55aa), found '$sig'"; return 1; }
    cmp -s -n 440 "$1" "$SYSLINUX_MBR" || { err "$1: the MBR boot code is not syslinux's"; return 1; }
    [ "$(od -An -tx1 -j446 -N1 "$1" | tr -d ' ')" = 80 ] ||
        { err "$1: partition 1 is not active"; return 1; }
    qemu-img info -f raw "$1" >/dev/null || { err "$1: qemu-img cannot read it"; return 1; }
}
