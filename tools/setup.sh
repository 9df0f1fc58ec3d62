# Shared by quickstart.sh and check.sh: installs what is missing on a Debian 12
# machine and runs build steps quietly, printing one line per step and the
# tail of the step's log when it fails.
#
# Sourced, not run. Callers set -eu themselves.

CAPSULE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CAPSULE_LOGS=${CAPSULE_LOGS:-$CAPSULE_TOP/build/logs}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# Debian packages the build and the tests need.
CAPSULE_DEBS="scons gcc clang clang-format git libclang-rt-14-dev pkg-config libnspr4-dev libffi-dev
libexpat1-dev check libsubunit-dev swig python3 python3-dev default-jdk-headless nasm mingw-w64
binutils qemu-utils seabios xorriso"

# libpng-dev: capsule-vm --screenshot writes PNG with it (a well-kept encoder
# beats deflate of our own); tesseract-ocr: the vga test reads the screen
# as a person would (OCR finds the BIOS banner).
CAPSULE_DEBS="$CAPSULE_DEBS libpng-dev tesseract-ocr"

# iasl (acpica-tools): tests/unit/platform disassembles the DSDT with it.
CAPSULE_DEBS="$CAPSULE_DEBS acpica-tools"

# The screen's frontends (issue 13): libvncserver-dev (the remote display
# server: RFB, its encodings and VNC authentication are a well-kept library's
# job), libsdl2-dev (the VM window). Their tests look as a person would:
# Xvfb, xdotool, xwd (x11-apps) and ImageMagick for the SDL window; real VNC
# clients (vncsnapshot, tigervnc-viewer) for the VNC server.
CAPSULE_DEBS="$CAPSULE_DEBS libvncserver-dev libsdl2-dev xvfb xdotool x11-apps imagemagick
vncsnapshot tigervnc-viewer"

# Networking (issue 15): libslirp-dev, the user-mode NAT VirtualBox's and
# QEMU's NAT engines are built on (TCP/IP, DHCP and DNS for the guest are a
# well-kept library's job); tcpdump reads the packet captures in tests.
CAPSULE_DEBS="$CAPSULE_DEBS libslirp-dev tcpdump"

# Saved state (issue 17): libzstd-dev compresses guest RAM in the stream
# (fast at low levels, a well-kept library beats a compressor of our own).
# The web manager (issue 16): libmicrohttpd-dev, a small, well-kept embedded
# HTTP server in C with no dependencies beyond GnuTLS.
CAPSULE_DEBS="$CAPSULE_DEBS libzstd-dev libmicrohttpd-dev"
# Its API tests speak HTTP with curl and read the JSON with jq.
CAPSULE_DEBS="$CAPSULE_DEBS curl jq"

step() { # step NAME COMMAND...: runs COMMAND with its output in a log
    local name=$1 log t0 rc
    shift
    mkdir -p "$CAPSULE_LOGS"
    log="$CAPSULE_LOGS/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '-' | sed 's/-*$//').log"
    t0=$(date +%s)
    printf '%-40s' "$name"
    set +e
    "$@" >"$log" 2>&1
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        echo "FAILED (exit $rc)"
        echo "---- last 60 lines of $log ----" >&2
        tail -n 60 "$log" >&2
        echo "---- step '$name' failed; full log: $log ----" >&2
        exit 1
    fi
    echo "ok ($(($(date +%s) - t0)) s)"
}

# Skipped test parts. A test part that truly needs something this host
# lacks - today /dev/kvm, which the hm engine needs - prints "SKIP: TEST:
# REASON" and appends "TEST: REASON" to $CAPSULE_SKIPS (tests/lib/skip.sh,
# tests/lib/testskip.h); the rest of the test still runs, under engine rem.
# `scons check` sets CAPSULE_SKIPS to BUILD/logs/skips.txt, clears it when
# the run starts and prints "skipped: N (...)" when it ends.
#   CAPSULE_REQUIRE_KVM=1  for machines known to have KVM: a missing or
#                          unusable /dev/kvm fails the tests that need it
#   CAPSULE_SKIP_KVM=1     skip the hm parts even where /dev/kvm works
#                          (and hide it from the VMs the tests start)
# skips_summary BUILDDIR WHAT: one line for check.sh's end.
skips_summary() {
    python3 "$CAPSULE_TOP/tools/skips.py" "$CAPSULE_TOP/$1/logs/skips.txt" "in $2"
}

# times_summary BUILDDIR WHAT: the 10 slowest test aliases of the last check
# run in BUILDDIR (each alias records its wall time in logs/check-times.txt;
# tools/check_times.py).
times_summary() {
    python3 "$CAPSULE_TOP/tools/check_times.py" "$CAPSULE_TOP/$1/logs/check-times.txt" 10 "$2"
}

# What the guest images need (tools/guestkit: mkiso.sh, mkdisk.sh,
# mkdebian.sh) and the peer of the boot benchmarks (qemu-system-x86: QEMU's
# software CPU, tests/bench/images).
CAPSULE_DEBS="$CAPSULE_DEBS xorriso isolinux syslinux syslinux-common mtools dosfstools fdisk e2fsprogs
debootstrap qemu-system-x86"

missing_debs() { # one dpkg-query for all: a few ms when nothing is missing
    { dpkg-query -W -f='${Package} ${Status}\n' $CAPSULE_DEBS 2>/dev/null || true; } |
        awk -v debs="$(echo $CAPSULE_DEBS)" '$NF == "installed" { ok[$1] = 1 }
             END { n = split(debs, p, / +/)
                   for (i = 1; i <= n; i++) if (p[i] != "" && !(p[i] in ok)) { print p[i]; ok[p[i]] = 1 } }'
}

# The guest kit fetches packages with `apt-get download`, which needs a
# package index even when nothing has to be installed.
index_ok() {
    apt-cache show linux-image-amd64 busybox-static >/dev/null 2>&1
}

install_debs() {
    local missing sudo=
    missing=$(missing_debs | tr '\n' ' ')
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    if [ -z "${missing// /}" ]; then
        index_ok && return 0
        echo "refreshing the package index (the guest kit needs it)"
        $sudo apt-get update -qq
        return
    fi
    echo "installing Debian packages: $missing"
    $sudo apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
}

setup() {
    cd "$CAPSULE_TOP"
    step "install Debian packages" install_debs
    step "build (scons)" scons -Q -j"$JOBS"
}
