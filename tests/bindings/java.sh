#!/bin/bash
# tests/bindings/java.sh - compiles and runs JavaTest.java (and the README's
# Flow.java) with BUILD/java/capsule.jar against a capsule-svc in a temporary
# CAPSULE_HOME, then kills every capsule-svc/capsule-vm of that home (by pid).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
[ -e "$B/java/capsule.jar" ] && command -v javac >/dev/null ||
    { echo "FAIL: no JDK (javac) or $B/java/capsule.jar not built"; exit 1; }
# The sources are UTF-8 whatever the locale says (javac would read them as
# ASCII under LANG=C and refuse the test's non-ASCII strings).
javac -encoding UTF-8 -d "$tmp/classes" -cp "$B/java/capsule.jar" "$here/JavaTest.java" \
    "$CAPSULE_SRC/sdk/samples/java/Flow.java" || exit 1
# The Javadoc the build made (doclint warnings fail it) carries the IDL's
# descriptions: a method's, a param's, an attribute's, an enum constant's.
doc=$B/java/javadoc/org/capsule
for want in "IMachine.html:Starts a VM process (capsule-vm) for this machine" \
    "IMachine.html:The frontend the VM process runs" \
    "IMachine.html:Guest RAM in MB" "MachineState.html:The VM process is executing guest code" \
    "ICapsule.html:The root object: the registry of machines"; do
    grep -qF -- "${want#*:}" "$doc/${want%%:*}" 2>/dev/null ||
        { echo "FAIL: no Javadoc '${want#*:}' in $doc/${want%%:*}"; exit 1; }
done
echo "ok   Javadoc from the IDL in $doc"
$BIND_RUN java -cp "$B/java/capsule.jar:$tmp/classes" JavaTest
