#!/bin/bash
# tests/bindings/python.sh - runs test_python.py (unittest) with the Python
# binding of CAPSULE_BUILD against a capsule-svc in a temporary CAPSULE_HOME,
# then kills every capsule-svc/capsule-vm of that home (by pid).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
PYTHONPATH=$B/python $BIND_RUN python3 "$here/test_python.py"
