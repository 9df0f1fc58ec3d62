#!/bin/sh
# Bounded run of the hardware differential tester (scons check-rem-diff).
# REM_DIFF_COUNT / REM_DIFF_SEED override the defaults.
exec "$CAPSULE_BUILD/tests/rem_diff" --count "${REM_DIFF_COUNT:-2000}" --seed "${REM_DIFF_SEED:-1}"
