#!/usr/bin/env python3
"""flow.py KERNEL [NAME] - the README's Python example: list the machines,
create and register a VM that boots KERNEL, start it headless, wait for its
state-change event, say which engine runs it, type into it and move its
mouse, power it off, and remove the
machine again (also when a step fails), so the example can run again.

Run with PYTHONPATH=BUILD/python (tests/bindings runs it against a
temporary CAPSULE_HOME)."""
import sys
import time

import capsule
from capsule import EventType, LockType, MachineState, MouseButtonState, SessionState


def run(c, m, kernel):
    """Registers, starts and stops the machine; 0 if it ends PoweredOff."""
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
            print(s.console.debugger.execution_engine_reason)  # "engine rem (asked: auto): ..."
            # Keys and the mouse, as a user at the VM's screen would (this guest ignores them)
            n = s.console.keyboard.put_scancodes([0x1e, 0x9e])  # A down, A up
            s.console.keyboard.put_string('hi')
            s.console.mouse.put_mouse_event(5, -3, 0, 0, MouseButtonState.LeftButton)
            print("typed %d scancodes and 'hi', moved the mouse" % n)
            capsule.wait(s.console.power_down())
        for ev in events.iter(timeout=30):
            if ev.machine_id == m.id and ev.state == MachineState.PoweredOff:
                break
    print('%s is %s' % (m.name, m.state.name))
    return 0 if m.state == MachineState.PoweredOff else 1


def remove(m):
    """Undoes what run() did, as far as it got: powers the VM off if it still
    runs, unregisters the machine and deletes its files. Each step is tried on
    its own, so a failure here never hides the one that ended run()."""
    try:
        if m.state not in (MachineState.PoweredOff, MachineState.Aborted):
            with capsule.session(m, LockType.Shared) as s:
                capsule.wait(s.console.power_down(), 30000)
        # The VM process drops its lock just after the machine reaches PoweredOff.
        for _ in range(100):
            if m.session_state == SessionState.Unlocked:
                break
            time.sleep(0.1)
    except capsule.Error as e:
        print('cleanup: power off: %s' % e, file=sys.stderr)
    try:
        m.unregister()
    except capsule.Error as e:
        if e.code != capsule.CAP_E_INVALID_OBJECT_STATE:  # never registered
            print('cleanup: unregister: %s' % e, file=sys.stderr)
    try:
        capsule.wait(m.delete_config(), 30000)
        print('removed %s' % m.name)
    except capsule.Error as e:
        print('cleanup: delete: %s' % e, file=sys.stderr)


def main(kernel, name='py-demo'):
    c = capsule.connect()  # starts capsule-svc if none runs
    print('Capsule %s, %d machine(s)' % (c.version, len(c.machines)))
    for m in c.machines:
        print('  %r (%s)' % (m, m.state.name))  # <IMachine 'name' {id}>

    m = c.create_machine(name=name)
    try:
        return run(c, m, kernel)
    finally:
        remove(m)


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
