#!/bin/bash
# Installs what is missing, builds Capsule and runs the main job: the SDK
# demo, which creates an object through the component registry and calls it
# directly, dynamically (typelib + libffi) and through a dynamic proxy.
set -eu
. "$(dirname "$0")/tools/setup.sh"
setup
exec "$CAPSULE_TOP/build/bin/capsule-sdk-demo"
