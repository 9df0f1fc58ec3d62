#!/bin/bash
# tests/integration/acpi_button.sh - `capsule controlvm VM acpipowerbutton`
# end to end, in a temporary CAPSULE_HOME, under rem (no KVM needed): the
# payload acpi_button.bin enables the power button event, polls PM1_STS
# and enters S5 once it sees the press. The press goes CLI -> service ->
# the VM process's IConsole::powerButton -> PDM -> acpipm. Checked: the VM
# is still running until the press, it powers off after it (waitfor), the
# serial port shows both lines, the VM log records the press; the button
# on a stopped machine fails cleanly (exit 1). Time limits only bound a
# hang and scale with CAPSULE_TIMEOUT_SCALE. acpisleepbutton fails plainly
# (exit 1): the machine has no sleep button.
set -u
NAME=acpi_button
PAYLOAD=${CAPSULE_BUILD:-}/tests/vm-payloads/acpi_button.bin
NEED="${CAPSULE_BUILD:-}/bin/capsule-vm $PAYLOAD"
. "$(cd "$(dirname "$0")/../lib" && pwd)/cli.sh"
export CAPSULE_SVC_IDLE_TIMEOUT=60000

ok createvm --name demo --register
ok modifyvm demo --kernel "$PAYLOAD" --engine rem --uart1 0x3f8 4 --uartmode1 file "$tmp/com1"

# A stopped machine has no button to press.
run controlvm demo acpipowerbutton
[ $rc -eq 1 ] && grep -q '^capsule: error: ' "$tmp/err" && echo "ok   acpipowerbutton of a stopped VM fails" ||
    fail "acpipowerbutton of a stopped VM: exit $rc: $err"

ok startvm demo --type headless
# The payload is up (and waiting) once its first line is out.
for i in $(seq 1 $((100 * S))); do grep -q 'acpi payload up' "$tmp/com1" 2>/dev/null && break; sleep 0.1; done
grep -qx 'acpi payload up' "$tmp/com1" || fail "the payload did not start: $(cat "$tmp/com1" 2>&1)"
sleep 0.3
[ "$(mr demo VMState)" = '"running"' ] || fail "before the press: VMState $(mr demo VMState)"
grep -q 'power button' "$tmp/com1" && fail "the payload saw a press before any"

# The machine declares no sleep button (no sleep state): said plainly.
run controlvm demo acpisleepbutton
[ $rc -eq 1 ] && grep -q "^capsule: error: the sleep button is not supported: machine 'demo' has no ACPI sleep button" "$tmp/err" &&
    echo "ok   acpisleepbutton: $(head -1 "$tmp/err")" || fail "acpisleepbutton: exit $rc: $err"
[ "$(mr demo VMState)" = '"running"' ] || fail "after acpisleepbutton: VMState $(mr demo VMState)"
start=$(date +%s%N)
ok controlvm demo acpipowerbutton
[ -z "$out" ] || fail "acpipowerbutton printed: $out"
ok waitfor demo --state poweroff --timeout $((20 * S))
echo "acpipowerbutton: the guest was off $((($(date +%s%N) - start) / 1000000)) ms after the press"
[ "$(cat "$tmp/com1")" = $'acpi payload up\npower button' ] || fail "serial output: [$(cat "$tmp/com1")]"
log=$(mr demo LogFldr | tr -d '"')/capsule-vm.log
grep -q 'power button pressed' "$log" 2>/dev/null && grep -q 'S5' "$log" ||
    fail "the VM log lacks the press or S5: $(tail -5 "$log" 2>&1)"

finish
