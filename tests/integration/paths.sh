#!/bin/bash
# tests/integration/paths.sh - the paths users and other users hand to
# Capsule (issue 19 items 5-9), each part in its own temporary CAPSULE_HOME:
#   a FIFO as modifyvm --kernel/--initrd refused at once by the service;
#   a corrupt global capsule.xml: the CLI reports the service's reason at
#   once (well under the client's 10 s start timeout);
#   a home, capsule.xml or machine file owned by another user or writable
#   by group/others refused with a clear message (ssh's rule);
#   createvm failing (a name too long, no space left) leaves no
#   Machines/NAME behind and the name can be used again; orphan folders the
#   service can prove are its own are cleaned up.
# Every capsule-svc started here is killed at the end. Time limits scale
# with CAPSULE_TIMEOUT_SCALE.
set -u
NAME=paths
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/skip.sh"
chmod 755 "$tmp"
mounts=()
on_exit() {
    local m
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
}
export CAPSULE_SVC_IDLE_TIMEOUT=60000

stop_svc() { kill_svc; }
refused() {
    local what=$1 pat=$2
    shift 2
    run "$@"
    if [ $rc -ne 0 ] && grep -q -- "$pat" "$tmp/err"; then
        pass "$what"
    else
        fail "$what: capsule $* exited $rc, stderr lacks '$pat': $err"
    fi
}

# ---- item 6: a FIFO as --kernel / --initrd ----------------------------------
newhome
mkfifo "$tmp/fifo"
ok createvm --name fifo --register
refused "modifyvm --kernel FIFO" "is not a regular file (a FIFO)" modifyvm fifo --kernel "$tmp/fifo"
[ $ms -lt $((2000 * S)) ] || fail "modifyvm --kernel FIFO took $ms ms"
refused "modifyvm --initrd FIFO" "is not a regular file (a FIFO)" modifyvm fifo --initrd "$tmp/fifo"
refused "modifyvm --kernel folder" "is not a regular file (a directory)" modifyvm fifo --kernel "$tmp"
stop_svc

# ---- item 7: the service cannot start: its reason, at once -------------------
newhome
echo '<Capsule version="1"><Broken' >"$H/capsule.xml"
refused "corrupt capsule.xml: the service's reason" "capsule.xml:1" list vms
grep -q "exited without answering" "$tmp/err" || fail "corrupt capsule.xml: no 'exited' in: $err"
if [ $ms -lt $((2000 * S)) ]; then pass "corrupt capsule.xml reported in $ms ms"
else fail "corrupt capsule.xml reported after $ms ms (want < $((2000 * S)))"; fi

# ---- item 5: homes and settings another user could change -------------------
newhome
chmod 770 "$H"
refused "group-writable home" "refusing CAPSULE_HOME '$H'.*not writable by group or others" list vms
chmod 707 "$H"
refused "other-writable home" "mode 707" list vms
chmod 700 "$H"
ok list vms
stop_svc
mkdir -m 777 "$tmp/shared"
export CAPSULE_HOME=$tmp/shared/home
refused "home in a folder others can write" "the folder '$tmp/shared' above it may be changed" list vms
chmod 1777 "$tmp/shared"
ok list vms   # sticky, like /tmp: nobody can rename another user's entry
stop_svc
if [ "$(id -u)" = 0 ]; then
    newhome
    chown nobody "$H"
    refused "home owned by another user" "it is uid $(id -u nobody)" list vms
    chown root "$H"
    # a machine planted with another owner: inaccessible, its reason shown
    ok createvm --name planted --register
    ok list vms
    stop_svc
    chown nobody "$H/Machines/planted/planted.capsule"
    run showvminfo planted
    run list vms --long
    ok list vms
    grep -q "inaccessible" "$tmp/out" && pass "machine file of another owner: inaccessible" ||
        fail "machine file of another owner still listed as accessible: $out"
    run showvminfo "$(sed -n 's/.*{\(.*\)}.*/\1/p' "$tmp/out" | head -1)"
    grep -q "owned by uid $(id -u nobody)" "$tmp/out" "$tmp/err" &&
        pass "machine file of another owner: reason shown" ||
        fail "no reason for the planted machine file: $out $err"
    stop_svc
    # a capsule.xml of another owner: the service does not start, says why
    chown nobody "$H/capsule.xml"
    refused "capsule.xml owned by another user" "capsule.xml': it is owned by uid" list vms
    chown root "$H/capsule.xml"
    chmod 666 "$H/capsule.xml"
    refused "capsule.xml writable by others" "chmod go-w" list vms
    chmod 600 "$H/capsule.xml"
    ok list vms
    stop_svc
else
    test_skip "paths (other owners)" "needs root to give files to another uid"
fi

# ---- item 9: leftovers of createvm that failed or was cut short ---------------
newhome
long=$(printf 'n%.0s' $(seq 1 240))
refused "createvm with a name too long" "at most 238 fit" createvm --name "$long" --register
[ -z "$(ls -A "$H/Machines" 2>/dev/null)" ] && pass "name too long: nothing left in Machines" ||
    fail "name too long left: $(ls "$H/Machines")"
long=$(printf 'n%.0s' $(seq 1 238))
ok createvm --name "$long" --register
ok unregistervm "$long" --delete
[ -z "$(ls -A "$H/Machines" 2>/dev/null)" ] || fail "unregistervm --delete left: $(ls "$H/Machines")"
# a create or delete cut short: a folder holding only NAME.capsule.tmp and an
# empty Logs is the service's own and is removed when it starts; a folder
# with anything else in it is not
stop_svc
mkdir -p "$H/Machines/ghost/Logs" "$H/Machines/keep"
echo partial >"$H/Machines/ghost/ghost.capsule.tmp"
echo mine >"$H/Machines/keep/notes.txt"
echo partial >"$H/Machines/keep/keep.capsule.tmp"
ok list vms
[ ! -e "$H/Machines/ghost" ] && pass "orphan folder of an interrupted create removed" ||
    fail "orphan folder kept: $(ls -R "$H/Machines/ghost")"
[ -e "$H/Machines/keep/notes.txt" ] && pass "a folder with a user's file kept" ||
    fail "a folder with a user's file was removed"
ok createvm --name ghost --register
stop_svc
# no space left: a tiny tmpfs as the home (root only)
if [ "$(id -u)" = 0 ] && mkdir -p "$tmp/small" && mount -t tmpfs -o size=64k,mode=0700 tmpfs "$tmp/small" 2>/dev/null; then
    mounts+=("$tmp/small")
    export CAPSULE_HOME=$tmp/small
        ok list vms
    dd if=/dev/zero of="$tmp/small/fill" bs=1k count=256 2>/dev/null
    refused "createvm with no space left" "No space left" createvm --name full --register
    [ ! -e "$tmp/small/Machines/full" ] && pass "no space left: no Machines/full left" ||
        fail "no space left: Machines/full left: $(ls -A "$tmp/small/Machines/full")"
    rm -f "$tmp/small/fill"
    ok createvm --name full --register
    run list vms
    grep -q '"full"' "$tmp/out" && pass "the name is usable once there is space" ||
        fail "createvm full after freeing space: $out"
    stop_svc
else
    test_skip "paths (no space left)" "needs root and a tmpfs mount"
fi

finish
