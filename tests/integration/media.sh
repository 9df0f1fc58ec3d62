#!/bin/bash
# tests/integration/media.sh - the media registry from the CLI (issue 12
# item 7), in a temporary CAPSULE_HOME against the real capsule-svc:
#  - createmedium makes VDI (dynamic, fixed) and RAW images that qemu-img
#    reads (`qemu-img check` clean, `qemu-img info` the right size and
#    format), with VBoxManage's "0%...100%" and "Medium created. UUID:";
#  - showmediuminfo (and --machinereadable) and list hdds in VBoxManage's
#    layout; a DVD image registered when first named, never deleted;
#    locations with ".." resolved; clonemedium;
#  - a second createmedium on the same file, a bad size, an unknown format
#    or variant fail clearly and change nothing;
#  - a service restart keeps the registry; an image deleted behind its back
#    shows as inaccessible with the reason, and stays listed;
#  - closemedium keeps the file, closemedium --delete removes it.
# The qemu-img checks skip (tests/lib/skip.sh) where qemu-img is missing.
set -u
NAME=media
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
. "$(cd "$(dirname "$0")/../lib" && pwd)/skip.sh"

d=$tmp/disks
mkdir -p "$d"
have_qemu=1
command -v qemu-img >/dev/null 2>&1 || {
    have_qemu=0
    test_skip media "qemu-img is not installed (apt-get install qemu-utils): images not cross-checked"
}

# qcheck FILE FORMAT BYTES: qemu-img agrees on the image.
qcheck() {
    [ $have_qemu = 1 ] || return 0
    if [ "$2" = vdi ]; then
        qemu-img check -f vdi "$1" >"$tmp/q" 2>&1 && echo "ok   qemu-img check $(basename "$1")" ||
            fail "qemu-img check $1: $(cat "$tmp/q")"
    fi
    local info
    info=$(qemu-img info --output=json "$1" 2>&1)
    echo "$info" | grep -q "\"format\": \"$2\"" && echo "$info" | grep -q "\"virtual-size\": $3," &&
        echo "ok   qemu-img info $(basename "$1"): $2, $3 bytes" ||
        fail "qemu-img info $1 (want $2, $3 bytes): $info"
}

# field TEXT LABEL: the value of "LABEL:   value" in TEXT.
field() { echo "$1" | sed -n "s/^$2: *//p" | head -1; }

# --- createmedium, both formats, both variants ----------------------------
ok createmedium disk --filename "$d/dyn.vdi" --size 64
echo "$out" | grep -qE '^Medium created\. UUID: [0-9a-f-]{36}$' || fail "createmedium said: $out"
grep -q '^0%\.\.\.10%\.\.\..*90%\.\.\.100%$' "$tmp/err" || fail "createmedium progress: $err"
dyn_id=$(echo "$out" | sed -n 's/^Medium created\. UUID: //p')
qcheck "$d/dyn.vdi" vdi 67108864

ok createmedium --filename "$d/fixed.vdi" --size 8 --variant Fixed
qcheck "$d/fixed.vdi" vdi 8388608
ok createmedium --filename "$d/raw.img" --size 16 --format RAW
qcheck "$d/raw.img" raw 16777216
# A relative file name is the current folder's.
(cd "$d" && "$CAP" createmedium --filename rel.vdi --size 1 >/dev/null 2>&1) ||
    fail "createmedium with a relative --filename failed"

# --- bad input: clear errors, nothing changed -----------------------------
before=$(stat -c %Y.%s "$d/dyn.vdi")
expect 1 "the file '$d/dyn.vdi' already exists" createmedium --filename "$d/dyn.vdi" --size 64
[ "$(stat -c %Y.%s "$d/dyn.vdi")" = "$before" ] || fail "a refused createmedium touched the file"
expect 2 "--size: '0' must be more than 0" createmedium --filename "$d/x.vdi" --size 0
expect 2 "--size" createmedium --filename "$d/x.vdi" --size lots
expect 2 "unknown format 'QCOW2' \(VDI or RAW\)" createmedium --filename "$d/x.vdi" --size 1 \
    --format QCOW2
expect 2 "unknown variant 'Split2G'" createmedium --filename "$d/x.vdi" --size 1 --variant Split2G
expect 2 "only disk media can be created" createmedium dvd --filename "$d/x.iso" --size 1
expect 2 "option '--filename' is required|--filename" createmedium --size 1
[ -e "$d/x.vdi" ] && fail "a refused createmedium left $d/x.vdi"

# --- showmediuminfo, list hdds ---------------------------------------------
ok showmediuminfo disk "$d/dyn.vdi"
[ "$(field "$out" UUID)" = "$dyn_id" ] || fail "showmediuminfo UUID: $out"
[ "$(field "$out" State)" = created ] || fail "showmediuminfo State: $out"
[ "$(field "$out" 'Storage format')" = VDI ] || fail "showmediuminfo format: $out"
[ "$(field "$out" 'Format variant')" = "dynamic default" ] || fail "showmediuminfo variant: $out"
[ "$(field "$out" Capacity)" = "64 MBytes" ] || fail "showmediuminfo Capacity: $out"
[ "$(field "$out" Location)" = "$d/dyn.vdi" ] || fail "showmediuminfo Location: $out"
for label in 'Parent UUID' Type 'Size on disk' Encryption; do
    echo "$out" | grep -q "^$label: " || fail "showmediuminfo has no '$label:' line: $out"
done
ok showmediuminfo "$dyn_id"
ok showmediuminfo "$d/fixed.vdi"
[ "$(field "$out" 'Format variant')" = "fixed default" ] || fail "fixed variant: $out"
[ "$(field "$out" 'Size on disk')" = "8 MBytes" ] || fail "fixed size on disk: $out"
ok showmediuminfo "$d/fixed.vdi" --machinereadable
for kv in 'StorageFormat="VDI"' 'FormatVariant="fixed default"' 'Capacity=8388608' \
    'State="created"' "Location=\"$d/fixed.vdi\""; do
    echo "$out" | grep -qx -- "$kv" || fail "showmediuminfo --machinereadable lacks $kv: $out"
done
# One file, one location: "..", "." and links in the folder are resolved.
mkdir -p "$d/sub"
ok createmedium --filename "$d/sub/../dots.vdi" --size 1
ok showmediuminfo "$d/./dots.vdi"
[ "$(field "$out" Location)" = "$d/dots.vdi" ] || fail "location of sub/../dots.vdi: $out"
ok closemedium "$d/dots.vdi" --delete
expect 1 "no registered hard disk is '$d/none.vdi' \(no such file\)" showmediuminfo "$d/none.vdi"
expect 2 "unknown medium type 'tape'" showmediuminfo tape "$d/dyn.vdi"

ok list hdds
[ "$(echo "$out" | grep -c '^UUID: ')" = 4 ] || fail "list hdds shows not 4 media: $out"
echo "$out" | grep -q "^Location: *$d/raw.img$" || fail "list hdds lacks raw.img: $out"
ok list dvds
[ -z "$out" ] || fail "list dvds: $out"
# A DVD image is opened (registered) when first named, read-only.
truncate -s 64K "$d/cd.iso"
ok showmediuminfo dvd "$d/cd.iso"
[ "$(field "$out" Type)" = readonly ] || fail "a DVD image's type: $out"
ok list dvds
[ "$(field "$out" Location)" = "$d/cd.iso" ] || fail "list dvds: $out"
expect 1 "read-only: close it instead" closemedium dvd "$d/cd.iso" --delete
ok closemedium dvd "$d/cd.iso"
[ -e "$d/cd.iso" ] || fail "closemedium dvd removed the image"

# --- clonemedium ------------------------------------------------------------
ok clonemedium "$d/dyn.vdi" "$d/copy.img" --format RAW
echo "$out" | grep -qE "^Clone medium created in format 'RAW'\. UUID: " || fail "clonemedium: $out"
qcheck "$d/copy.img" raw 67108864
expect 1 "already exists" clonemedium "$d/dyn.vdi" "$d/copy.img"

# --- a restart keeps the registry; a vanished image is inaccessible ---------
grep -q "<MediaRegistry>" "$CAPSULE_HOME/capsule.xml" || fail "capsule.xml has no MediaRegistry"
for pid in $(pgrep -f -- "capsule-svc .*$CAPSULE_HOME( |\$)"); do kill "$pid"; done
sleep 0.5
rm "$d/raw.img"
ok list hdds
[ "$(echo "$out" | grep -c '^UUID: ')" = 5 ] || fail "after a restart list hdds shows: $out"
ok showmediuminfo "$d/raw.img"
[ "$(field "$out" State)" = inaccessible ] || fail "a deleted image's state: $out"
echo "$out" | grep -q "^Access Error: .*raw.img" || fail "no access error for raw.img: $out"
ok showmediuminfo "$dyn_id"
[ "$(field "$out" State)" = created ] || fail "dyn.vdi after restart: $out"

# --- closemedium ------------------------------------------------------------
ok closemedium disk "$d/raw.img"
expect 1 "no registered hard disk" showmediuminfo "$dyn_id-x" # not a UUID, no such file
ok closemedium "$d/copy.img"
[ -e "$d/copy.img" ] || fail "closemedium removed the file"
ok closemedium disk "$d/dyn.vdi" --delete
[ -e "$d/dyn.vdi" ] && fail "closemedium --delete left $d/dyn.vdi"
expect 1 "no registered hard disk is '$d/dyn.vdi'" closemedium "$d/dyn.vdi"
ok list hdds
[ "$(echo "$out" | grep -c '^UUID: ')" = 2 ] || fail "after closing, list hdds shows: $out"
finish
