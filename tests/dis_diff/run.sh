#!/bin/sh
# Bounded decoder differential test (see dis_diff.py); CAPSULE_BUILD is set by
# env.CapScriptTest.
exec python3 "$(dirname "$0")/dis_diff.py" --capsule-dis "$CAPSULE_BUILD/bin/capsule-dis" --show 5
