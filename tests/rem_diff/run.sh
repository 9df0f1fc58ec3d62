#!/bin/sh
# Bounded run of the hardware differential tester (scons check-rem-diff).
# REM_DIFF_COUNT / REM_DIFF_SEED override the defaults.
# First every reproducer of a mismatch found and fixed (regressions.txt).
"$CAPSULE_BUILD/tests/rem_diff" --replay "$(dirname "$0")/regressions.txt" || exit 1
exec "$CAPSULE_BUILD/tests/rem_diff" --count "${REM_DIFF_COUNT:-2000}" --seed "${REM_DIFF_SEED:-1}"
