#!/bin/bash
# tests/integration/net/net_linux_e1000.sh - net_linux.sh's boot and checks
# with the Intel 82540EM (plugins/devices/e1000) and Linux's e1000 driver.
exec "$(dirname "${BASH_SOURCE[0]}")/net_linux.sh" e1000
