#!/bin/bash
# Installs what is missing, builds Capsule and its default guest, and runs it.
#
#   ./quickstart.sh
#       1. installs missing Debian packages and builds (tools/setup.sh);
#       2. builds the guest kit (tools/guestkit: Debian's kernel and a busybox
#          initramfs, from Debian packages; cached under build/guest);
#       3. creates and registers the VM "demo" in CAPSULE_HOME (default
#          ~/.capsule) if it is missing: 256 MiB, engine auto, the kit's
#          vmlinux, initrd and command line, serial port 1 (0x3f8, IRQ 4) in
#          server mode on CAPSULE_HOME/demo.sock; while it is powered off its
#          kernel, initrd and command line are brought up to date with the kit;
#       4. starts it headless unless it is already running;
#       5. stdin a terminal: attaches the terminal to the guest's console
#          (`capsule console demo`; detach with Ctrl-] then q, the VM keeps
#          running; `exit` or `poweroff` in the guest's shell powers it off,
#          `reboot` restarts it); the terminal's size at start-up is the
#          console's (capsule.winsize= on the kernel command line).
#          stdin not a terminal (CI, scripts): attaches nothing - a pipe would
#          type into a guest still booting - and prints how to attach and how
#          to power the VM off; the VM stays running.
#
#   ./quickstart.sh --batch CMD
#       Steps 1 and 2 quietly (progress on stderr), then boots the same guest
#       in a standalone capsule-vm (no service, no registered VM) with CMD on
#       the kernel command line: the guest's init runs it, and this prints
#       CMD's output (stdout and stderr, in that order) on stdout and exits
#       with CMD's exit status. Nothing is left running. 125 if the guest did
#       not report a status (its log then goes to stderr); QUICKSTART_TIMEOUT
#       seconds (default 300) bound the boot and CMD.
#
#   ./quickstart.sh --disk
#       A PC booting from a disk, set up the VBoxManage way (issue 12):
#       1. as above, then builds a minimal Debian system on a disk image
#          (tools/guestkit/mkdebian.sh: debootstrap from the mirror apt uses,
#          Debian's kernel, systemd; 2-5 minutes the first time, needs
#          root for debootstrap, cached in build/guest/debian.img);
#       2. creates and registers the VM "debian" (512 MiB) if it is missing,
#          clones the image into its folder as a VDI (clonemedium), adds an
#          IDE controller (storagectl), attaches the VDI as the primary
#          master (storageattach), sets firmware BIOS, boot from the disk
#          and serial port 1 on CAPSULE_HOME/debian.sock (modifyvm);
#       3. starts it headless and attaches the console like the demo:
#          SeaBIOS, syslinux, then "capsule-debian login:" (root, no
#          password). A capsule without the disk commands yet (storagectl,
#          storageattach, modifyvm --firmware/--boot1) stops before
#          creating anything and says what is missing.
#
# The SDK demo this script used to run is `build/bin/capsule-sdk-demo`.
set -eu
. "$(dirname "$0")/tools/setup.sh"

usage() {
    echo "usage: ./quickstart.sh              build, boot the VM 'demo' and attach its console" >&2
    echo "       ./quickstart.sh --batch CMD  run CMD in the guest, print its output, power off" >&2
    echo "       ./quickstart.sh --disk       build a Debian disk, boot it in the VM 'debian' (BIOS, IDE)" >&2
    exit 2
}
batch= have_batch=0 disk=0
while [ $# -gt 0 ]; do
    case $1 in
    --disk) disk=1; shift ;;
    --batch) [ $# -ge 2 ] || usage; batch=$2 have_batch=1; shift 2 ;;
    --batch=*) batch=${1#--batch=} have_batch=1; shift ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
done
[ $have_batch = 1 ] && [ -z "$batch" ] && { echo "quickstart: --batch: the command is empty" >&2; exit 2; }
[ $have_batch = 1 ] && [ $disk = 1 ] && { echo "quickstart: --batch and --disk do not go together" >&2; exit 2; }

B=$CAPSULE_TOP/build
CAP=$B/bin/capsule
KIT=$CAPSULE_TOP/tools/guestkit/guestkit.sh

# The guest kit, as one step line; sets vmlinux, initrd and cmdline.
guest_kit() {
    local log=$CAPSULE_LOGS/guestkit.log out
    mkdir -p "$CAPSULE_LOGS"
    printf '%-40s' "guest kit (Debian kernel + busybox)"
    if ! out=$("$KIT" 2>"$log"); then
        echo "FAILED"
        sed 's/^/  /' "$log" >&2
        echo "quickstart: the default guest is built from Debian packages (linux-image-amd64," \
            "busybox-static) fetched with apt-get download; fix the above and rerun" >&2
        exit 1
    fi
    vmlinux=$(sed -n 's/^vmlinux=//p' <<<"$out")
    initrd=$(sed -n 's/^initrd=//p' <<<"$out")
    cmdline=$(sed -n 's/^cmdline=//p' <<<"$out")
    echo "ok ($(sed -n 's/^release=//p' <<<"$out"))"
}

# ---- --batch ------------------------------------------------------------------
if [ $have_batch = 1 ]; then
    { setup; guest_kit; } >&2
    line=$("$KIT" cmdline --batch "$batch" --debug-exit) || exit 2
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    # capsule-vm runs in the foreground: when it returns the guest is gone.
    set +e
    timeout -k 5 "${QUICKSTART_TIMEOUT:-300}" "$B/bin/capsule-vm" --engine auto --memory 256 \
        --kernel "$vmlinux" --initrd "$initrd" --append "$line" \
        --serial stdio --debug-exit </dev/null >"$log" 2>&1
    st=$?
    set -e
    tr -d '\r' <"$log" >"$log.n" && mv "$log.n" "$log"
    # The end marker carries CMD's status; the debug-exit code (2*rc+1)
    # confirms the guest got as far as writing it.
    rc=$(sed -n 's/^=== capsule-batch end rc=\([0-9]*\) ===$/\1/p' "$log" | tail -1)
    if [ -z "$rc" ] || [ $st -ne $((((rc & 255) * 2 + 1) & 255)) ]; then
        echo "quickstart: the guest did not complete the batch command (capsule-vm exit $st$([ $st -eq 124 ] && echo ": timed out after ${QUICKSTART_TIMEOUT:-300}s")); its output:" >&2
        tail -n 40 "$log" >&2
        exit 125
    fi
    sed -n '/^=== capsule-batch begin ===$/,/^=== capsule-batch end rc=[0-9]* ===$/p' "$log" | sed '1d;$d'
    exit "$rc"
fi

# console_socket NAME: sets sock to CAPSULE_HOME/NAME.sock, checked against
# the Unix socket path limit.
console_socket() {
    export CAPSULE_HOME=${CAPSULE_HOME:-$HOME/.capsule}
    mkdir -p "$CAPSULE_HOME"
    sock=$(cd "$CAPSULE_HOME" && pwd)/$1.sock
    if [ ${#sock} -gt 107 ]; then
        echo "quickstart: the console socket path '$sock' is longer than 107 bytes (a Unix socket limit); use a shorter CAPSULE_HOME" >&2
        exit 1
    fi
}

# ensure_vm VM: creates and registers VM if it is missing; sets state (its
# VMState).
ensure_vm() {
    if ! "$CAP" showvminfo "$1" >/dev/null 2>&1; then
        "$CAP" createvm --name "$1" --ostype Linux_64 --register >/dev/null
        echo "created and registered the VM '$1' (CAPSULE_HOME=$CAPSULE_HOME)"
    fi
    state=$("$CAP" showvminfo "$1" --machinereadable | sed -n 's/^VMState="\(.*\)"/\1/p')
}

# attach VM HINT...: stdin a terminal: attaches it to VM's console. Else
# (CI, scripts) attaches nothing - a pipe would type into a guest still
# booting - and prints how to attach and the HINT lines; the VM keeps
# running.
attach() {
    local vm=$1
    shift
    if [ -t 0 ]; then
        [ "$state" = running ] && echo "(press Enter for a prompt)"
        exec "$CAP" console "$vm"
    fi
    echo "stdin is not a terminal, so no console is attached; the VM keeps running."
    echo "  attach:     $CAP console $vm        (detach: Ctrl-] then q)"
    printf '%s\n' "$@"
}

# ---- --disk: the VM 'debian', booting Debian from an IDE disk ---------------
# The commands it needs: issue 12's media and storage CLI and BIOS boot
# settings. Checked before anything is created, so that a capsule without
# them leaves no half-made VM behind.
disk_commands_missing() {
    local c o
    for c in createmedium clonemedium storagectl storageattach; do
        "$CAP" help "$c" >/dev/null 2>&1 || printf " '%s'" "$c"
    done
    for o in --firmware --boot1; do
        "$CAP" help modifyvm 2>/dev/null | grep -q -- "$o" || printf " 'modifyvm %s'" "$o"
    done
}

if [ $disk = 1 ]; then
    setup
    log=$CAPSULE_LOGS/mkdebian.log
    printf '%-40s' "Debian disk image (debootstrap)"
    sudo=
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    if ! out=$($sudo "$CAPSULE_TOP/tools/guestkit/mkdebian.sh" 2>"$log"); then
        echo "FAILED"
        sed 's/^/  /' "$log" >&2
        exit 1
    fi
    image=$(sed -n 's/^disk=//p' <<<"$out")
    echo "ok ($(sed -n 's/^release=//p' <<<"$out"))"
    missing=$(disk_commands_missing)
    if [ -n "$missing" ]; then
        cat >&2 <<END
quickstart: the Debian disk is ready ($image), but this capsule cannot boot
a VM from a disk yet: it lacks$missing.
Once they exist, --disk runs (as VBoxManage would):
  capsule createvm --name debian --ostype Linux_64 --register
  capsule clonemedium disk $image VMFOLDER/debian.vdi --format VDI
  capsule storagectl debian --name IDE --add ide --controller PIIX3
  capsule storageattach debian --storagectl IDE --port 0 --device 0 --type hdd --medium VMFOLDER/debian.vdi
  capsule modifyvm debian --memory 512 --firmware bios --boot1 disk --uart1 0x3f8 4 --uartmode1 server SOCKET
  capsule startvm debian --type headless
  capsule console debian
END
        exit 1
    fi
    console_socket debian
    ensure_vm debian
    case $state in
    running | paused | starting)
        echo "the VM 'debian' is already $state"
        ;;
    *)
        cfg=$("$CAP" showvminfo debian --machinereadable | sed -n 's/^CfgFile="\(.*\)"/\1/p')
        vdi=$(dirname "$cfg")/debian.vdi
        # The VM's own copy: the guest writes to it, the cached image stays
        # as built. The VDI of an earlier run (with what its guest did) is
        # kept; `capsule closemedium VDI --delete` makes the next run fresh.
        if [ ! -e "$vdi" ]; then
            if ! msg=$("$CAP" clonemedium disk "$image" "$vdi" --format VDI 2>&1); then
                echo "quickstart: capsule clonemedium failed: $msg" >&2
                exit 1
            fi
            echo "cloned $image into $vdi"
        fi
        if ! "$CAP" showvminfo debian --machinereadable | grep -q '^storagecontrollername[0-9]*="IDE"'; then
            "$CAP" storagectl debian --name IDE --add ide --controller PIIX3
        fi
        "$CAP" storageattach debian --storagectl IDE --port 0 --device 0 --type hdd --medium "$vdi"
        "$CAP" modifyvm debian --memory 512 --cpus 1 --engine auto --firmware bios --boot1 disk \
            --uart1 0x3f8 4 --uartmode1 server "$sock"
        "$CAP" startvm debian --type headless >/dev/null
        echo "started the VM 'debian' headless (SeaBIOS, syslinux, Debian's kernel and systemd; log in as root, no password)"
        ;;
    esac
    attach debian "  power off:  $CAP controlvm debian poweroff   (or 'poweroff' in the guest)"
    exit 0
fi

# ---- the VM 'demo' --------------------------------------------------------------
setup
guest_kit
console_socket demo
ensure_vm demo
case $state in
running | paused | starting)
    echo "the VM 'demo' is already $state"
    ;;
*)
    # Settings can change only while it is off: keep them in step with the kit.
    # The terminal about to be attached gives the console its size (a
    # serial line carries none; the guest's /init reads capsule.winsize).
    if [ -t 0 ] && size=$(stty size 2>/dev/null) && [ "${size% *}" -gt 0 ] 2>/dev/null &&
        [ "${size#* }" -gt 0 ] 2>/dev/null; then
        cmdline="$cmdline capsule.winsize=${size% *}x${size#* }"
    fi
    "$CAP" modifyvm demo --memory 256 --cpus 1 --engine auto \
        --kernel "$vmlinux" --initrd "$initrd" --cmdline "$cmdline" \
        --uart1 0x3f8 4 --uartmode1 server "$sock"
    "$CAP" startvm demo --type headless >/dev/null
    echo "started the VM 'demo' headless (Debian's kernel under Capsule; the shell comes up in about 10 s)"
    ;;
esac

attach demo "  power off:  $CAP controlvm demo poweroff   (or 'exit' in the guest's shell)" \
    "  one-shot:   ./quickstart.sh --batch 'uname -a'"
