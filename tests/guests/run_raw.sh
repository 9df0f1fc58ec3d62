#!/bin/sh
# tests/guests/run_raw.sh - the guest payloads under --engine raw (64-bit
# user code natively in KVM, the rest in rem): `scons check-guests-raw`.
# Without a usable /dev/kvm it is a counted skip (run.sh, tests/lib/skip.sh).
exec "$(dirname "$0")/run.sh" --engine raw "$@"
