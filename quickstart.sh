#!/bin/bash
# Installs what is missing, builds Capsule and runs the main job:
#  1. the SDK demo: an object created through the component registry and
#     called directly, dynamically (typelib + libffi) and through a proxy;
#  2. the default VM "demo" of your CAPSULE_HOME (created and registered if
#     missing): started headless through capsule-svc, its serial output
#     shown, its state read from another process, then powered off.
# The default guest today is a small payload built from source
# (tests/integration/vm/serial_hlt.asm); the Debian kernel + busybox guest
# replaces it when the software CPU can boot it (issue 6).
set -eu
. "$(dirname "$0")/tools/setup.sh"
setup

B=$CAPSULE_TOP/build
CAP=$B/bin/capsule
echo "== SDK demo"
"$B/bin/capsule-sdk-demo"

echo "== VM 'demo' (CAPSULE_HOME=${CAPSULE_HOME:-$HOME/.capsule})"
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
if ! "$CAP" showvminfo demo >/dev/null 2>&1; then
    "$CAP" createvm --name demo --ostype Other --register >/dev/null
fi
state=$("$CAP" showvminfo demo --machinereadable | sed -n 's/^VMState="\(.*\)"/\1/p')
if [ "$state" = running ] || [ "$state" = paused ]; then
    echo "quickstart: 'demo' is already $state; leaving it alone" >&2
    exit 0
fi
"$CAP" modifyvm demo --memory 64 --cpus 1 --engine auto \
    --kernel "$B/tests/vm-payloads/serial_hlt.bin" --cmdline "" \
    --uart1 0x3f8 4 --uartmode1 file "$serial"
"$CAP" startvm demo --type headless
for _ in $(seq 50); do [ -s "$serial" ] && break; sleep 0.1; done
echo "guest serial: $(cat "$serial")"
"$CAP" showvminfo demo --machinereadable | grep -E '^(name|memory|engine|VMState)='
"$CAP" controlvm demo poweroff
"$CAP" waitfor demo --state poweroff --timeout 10
"$CAP" showvminfo demo --machinereadable | grep '^VMState='
