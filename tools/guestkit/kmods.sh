#!/bin/bash
# tools/guestkit/kmods.sh - kernel modules for the guest kit, as an
# initramfs overlay: the kit's kernel has its drivers for virtio, AHCI and
# the like as modules (Debian's config: CONFIG_VIRTIO_BLK=m, ...), which
# guestkit.sh leaves packed. This takes the named ones out of the very
# package the kit's kernel came from and writes them into a small gzip'd
# cpio archive; appended to the kit's initrd.gz (the kernel unpacks
# concatenated archives in turn), it adds /lib/modules/NAME.ko for each.
#
#   kmods.sh [--out DIR] MODULE...
#       DIR is the kit's folder (default $CAPSULE_GUEST_DIR, else
#       BUILD/guest), where guestkit.sh built the kernel (kernel.stamp
#       names its package and version). Prints on stdout
#         overlay=/abs/DIR/kmods-RELEASE-HASH.cpio.gz
#         load=MODULE MODULE ...   the order to insmod them in: as given
#       Modules are names without .ko (virtio_blk); each must exist in the
#       package. The overlay is cached per kernel release and module list;
#       making it downloads the kernel package once (about 70 MB, `apt-get
#       download`, removed afterwards). Modules are taken as the package
#       ships them (Debian 12's are not compressed: CONFIG_MODULE_COMPRESS_NONE).
#
# Needs apt-get, dpkg-deb, tar, python3 (mkinitramfs.py); never root.
# Exit status: 0, 1 on a failure (on stderr), 2 on bad arguments.
set -eu -o pipefail

KIT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$KIT_DIR/../.." && pwd)
err() { echo "kmods: error: $*" >&2; }
usage() {
    err "$*"
    echo "usage: kmods.sh [--out DIR] MODULE..." >&2
    exit 2
}

OUT=${CAPSULE_GUEST_DIR:-$TOP/build/guest}
mods=()
while [ $# -gt 0 ]; do
    case $1 in
    --out) [ $# -ge 2 ] || usage "--out needs a directory"; OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    -*) usage "unknown option '$1'" ;;
    *)
        [[ $1 =~ ^[A-Za-z0-9_-]+$ ]] || usage "'$1' is not a module name"
        mods+=("$1")
        shift
        ;;
    esac
done
[ ${#mods[@]} -gt 0 ] || usage "name at least one module"
stamp=$OUT/kernel.stamp
get() { sed -n "s/^$1=//p" "$stamp" | head -1; }
if [ ! -f "$stamp" ]; then
    err "$stamp is missing: build the guest kit first (tools/guestkit/guestkit.sh)"
    exit 1
fi
pkg=$(get package) ver=$(get version) rel=$(get release)
if [ -z "$pkg" ] || [ -z "$ver" ] || [ -z "$rel" ]; then
    err "$stamp does not name the kernel's package, version and release"
    exit 1
fi
hash=$(printf '%s\n' "$pkg" "$ver" "${mods[@]}" | sha256sum | cut -c1-12)
overlay=$OUT/kmods-$rel-$hash.cpio.gz

exec 9>"$OUT/.kmods.lock"
flock 9
if [ ! -s "$overlay" ]; then
    tmp=$OUT/.tmp-kmods
    rm -rf "$tmp" && mkdir -p "$tmp"
    trap 'rm -rf "$tmp" "$overlay.new"' EXIT
    echo "kmods: downloading $pkg $ver for ${mods[*]}" >&2
    if ! (cd "$tmp" && apt-get download -q "$pkg=$ver") >"$tmp/apt.log" 2>&1; then
        err "cannot download $pkg ($ver):"
        grep -v 'unsandboxed as root' "$tmp/apt.log" | sed 's/^/  /' >&2
        err "if the archive moved on, rebuild the kit (guestkit.sh --force), else run 'sudo apt-get update'"
        exit 1
    fi
    deb=$(ls "$tmp"/*.deb)
    pats=()
    for m in "${mods[@]}"; do pats+=("./lib/modules/$rel/kernel/*/$m.ko"); done
    # only the named modules (tar fails when one is missing: checked below)
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "${pats[@]}" 2>/dev/null || true
    {
        echo "dir /lib 0755 0 0"
        echo "dir /lib/modules 0755 0 0"
        for m in "${mods[@]}"; do
            f=$(find "$tmp/lib/modules/$rel/kernel" -name "$m.ko" 2>/dev/null | head -1 || true)
            if [ -z "$f" ]; then
                err "$pkg $ver has no module $m.ko"
                exit 1
            fi
            echo "file /lib/modules/$m.ko $f 0644 0 0"
        done
    } >"$tmp/list"
    python3 "$KIT_DIR/mkinitramfs.py" "$tmp/list" "$overlay.new"
    mv "$overlay.new" "$overlay"
    rm -rf "$tmp"
fi
echo "overlay=$overlay"
echo "load=${mods[*]}"
