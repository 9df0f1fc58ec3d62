#!/usr/bin/env python3
"""flow.py KERNEL [NAME] - the README's Python example: list the machines,
create and register a VM that boots KERNEL, start it headless, wait for its
state-change event, power it off.

Run with PYTHONPATH=BUILD/python (tests/bindings runs it against a
temporary CAPSULE_HOME)."""
import sys

import capsule
from capsule import EventType, LockType, MachineState


def main(kernel, name='py-demo'):
    c = capsule.connect()  # starts capsule-svc if none runs
    print('Capsule %s, %d machine(s)' % (c.version, len(c.machines)))
    for m in c.machines:
        print('  %s (%s)' % (m.name, m.state.name))

    m = c.create_machine(name=name)
    m.memory_size = 16
    m.kernel = kernel
    c.register_machine(m)
    print('registered %s, %d MB, id %s' % (m.name, m.memory_size, m.id))

    with capsule.events(c.event_source, [EventType.OnMachineStateChanged]) as events:
        session = capsule.new_session(c)
        capsule.wait(m.launch_vm_process(session, 'headless'))
        session.unlock_machine()  # detach; the VM process keeps its own lock
        for ev in events.iter(timeout=30):
            print('event: %s is %s' % (c.find_machine(ev.machine_id).name, ev.state.name))
            if ev.machine_id == m.id and ev.state == MachineState.Running:
                break

        with capsule.session(m, LockType.Shared) as s:
            capsule.wait(s.console.power_down())
        for ev in events.iter(timeout=30):
            if ev.machine_id == m.id and ev.state == MachineState.PoweredOff:
                break
    print('%s is %s' % (m.name, m.state.name))
    return 0 if m.state == MachineState.PoweredOff else 1


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
