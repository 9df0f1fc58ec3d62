"""tests/bindings/test_python.py - the Python binding against a real
capsule-svc (run by python.sh in a temporary CAPSULE_HOME, PYTHONPATH=BUILD/python).

The README's flow (sdk/samples/python/flow.py: list, create and register,
start headless, state event, power off, remove; run twice, and once failing),
the service's message in capsule.Error, conversions, the IDL's descriptions as docstrings, real
signatures and a repr naming the object, and handle leaks: wrappers release their
references when collected, and the service's objectHandleCount is back at
its baseline once a client process exits (read through a second client).
"""
import gc
import inspect
import os
import pydoc
import subprocess
import sys
import unittest

import capsule
from capsule import MachineState

B = os.environ['CAPSULE_BUILD']
SCALE = int(os.environ.get('CAPSULE_TIMEOUT_SCALE') or 1)
PAYLOAD = os.path.join(B, 'tests', 'vm-payloads', 'serial_hlt.bin')
SAMPLE = os.path.join(os.environ['CAPSULE_SRC'], 'sdk', 'samples', 'python', 'flow.py')


def counts():
    """(clients, handles) read by a second client process (holdclient)."""
    out = subprocess.run([os.path.join(B, 'tests', 'holdclient'), 'counts'], check=True,
                         capture_output=True, text=True, timeout=60 * SCALE).stdout.split()
    return int(out[1]), int(out[3])


class PythonBinding(unittest.TestCase):
    def test_1_flow_sample(self):
        # Twice: the sample removes its machine, also when a step fails.
        for _ in range(2):
            r = subprocess.run([sys.executable, SAMPLE, PAYLOAD, 'py-flow'], capture_output=True,
                               text=True, timeout=120 * SCALE)
            sys.stdout.write(r.stdout)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('event: py-flow is Running', r.stdout)
            self.assertIn("typed 2 scancodes and 'hi', moved the mouse", r.stdout)
            self.assertIn('py-flow is PoweredOff', r.stdout)
            self.assertIn('removed py-flow', r.stdout)
            if os.environ.get('NO_KVM'):
                # no KVM: engine auto ran the VM under rem, and says why
                self.assertIn('engine rem (asked: auto): hm is not usable here', r.stdout)
        # A failing run (no such kernel) removes its machine too.
        r = subprocess.run([sys.executable, SAMPLE, '/nonexistent/kernel', 'py-flow'],
                           capture_output=True, text=True, timeout=120 * SCALE)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('/nonexistent/kernel', r.stderr)
        self.assertIn('removed py-flow', r.stdout)
        c = capsule.connect()
        with self.assertRaises(capsule.Error) as cm:
            c.find_machine('py-flow')
        self.assertEqual(cm.exception.code, capsule.CAP_E_OBJECT_NOT_FOUND)
        self.assertFalse(os.path.exists(c.compose_machine_filename('py-flow')))

    def test_2_error_carries_service_message(self):
        c = capsule.connect()
        with self.assertRaises(capsule.Error) as cm:
            c.find_machine('no-such-vm')
        e = cm.exception
        self.assertEqual(e.code, capsule.CAP_E_OBJECT_NOT_FOUND)
        self.assertEqual(e.name, 'CAP_E_OBJECT_NOT_FOUND')
        self.assertIn("no-such-vm", e.message)
        self.assertEqual(e.component, 'capsule-svc')
        # A bad argument fails in the binding with a message, not a crash.
        with self.assertRaises(capsule.Error) as cm:
            c.create_machine(name='x', id='not-a-uuid')
        self.assertEqual(cm.exception.name, 'CAP_E_INVALIDARG')

    def test_3_conversions(self):
        c = capsule.connect()
        m = c.create_machine(name='conv')
        self.assertIsInstance(m, capsule.IMachine)
        self.assertEqual(m.state, MachineState.PoweredOff)
        m.memory_size = 48
        m.description = 'ünïcode'
        self.assertEqual((m.memory_size, m.description), (48, 'ünïcode'))
        c.register_machine(m)
        self.assertIn('conv', [x.name for x in c.machines])
        self.assertTrue(c.find_machine(m.id).same_object(m))
        self.assertEqual(c.get_machine_states([m]), [MachineState.PoweredOff])
        with capsule.lock(m) as mm:
            mm.memory_size = 96
            mm.save_settings()
        self.assertEqual(c.find_machine('conv').memory_size, 96)
        # an enum constant that is a Python keyword gets PEP 8's trailing underscore
        self.assertEqual(capsule.FirmwareType.None_, 0)
        with capsule.lock(m) as mm:
            mm.firmware_type = capsule.FirmwareType.BIOS
            self.assertEqual(mm.firmware_type, capsule.FirmwareType.BIOS)
            mm.firmware_type = capsule.FirmwareType.None_
            self.assertIs(mm.firmware_type, capsule.FirmwareType.None_)
        c.set_extra_data('k', 'v')
        self.assertEqual(c.get_extra_data('k'), 'v')
        self.assertIn('k', c.extra_data_keys)
        self.assertIsInstance(c.system_properties.supported_engines, list)

    def test_4_wrappers_release_when_collected(self):
        c = capsule.connect()
        base = c.object_handle_count
        held = [c.host, c.system_properties, c.event_source] + c.machines
        self.assertGreater(c.object_handle_count, base)
        del held
        gc.collect()
        self.assertEqual(c.object_handle_count, base)

    def test_5_no_handle_left_after_exit(self):
        _, base = counts()
        code = ('import capsule; c = capsule.connect(); keep = [c.host, c.machines, c.event_source,'
                ' c.event_source.create_listener(), capsule.new_session(c)];'
                ' print(c.object_handle_count)')
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                           timeout=60 * SCALE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(int(r.stdout), base)
        clients, handles = counts()
        self.assertEqual(handles, base)
        self.assertEqual(clients, 1)

    def test_6_docs_from_the_idl(self):
        def flat(s):
            return ' '.join((s or '').split())
        # help() of a method: its IDL description, its params', its result's.
        text = flat(pydoc.render_doc(capsule.IMachine.launch_vm_process, renderer=pydoc.plaintext))
        self.assertIn('Starts a VM process (capsule-vm) for this machine, which locks the machine '
                      'and powers it up', text)
        self.assertIn('type (str): The frontend the VM process runs', text)
        self.assertIn('Tracks the start; wait on it', text)
        self.assertIn('binds session to it', text)  # "@a session": the Python param name
        self.assertIn('Guest RAM in MB', flat(capsule.IMachine.memory_size.__doc__))
        self.assertIn('Type int, read-write', flat(capsule.IMachine.memory_size.__doc__))
        self.assertIn('A virtual machine: its settings', flat(capsule.IMachine.__doc__))
        self.assertIn('Running = 4 The VM process is executing guest code',
                      flat(capsule.MachineState.__doc__))
        # Every description of the IDL reaches a docstring.
        lib, n = capsule._lib, 0
        self.assertIn(flat(capsule._doc.python(lib.desc))[:60], flat(capsule.__doc__))
        for name in lib.results:
            desc = flat(capsule._doc.python(lib.result_docs[name]))[:40]
            self.assertIn('%s = 0x%08X %s' % (name, getattr(capsule, name) & 0xFFFFFFFF, desc),
                          flat(capsule.Error.__doc__))
            n += 1
        for name, (desc, values) in lib.enum_docs.items():
            doc = flat(getattr(capsule, name).__doc__)
            self.assertIn(flat(capsule._doc.python(desc))[:40], doc)
            for const, text in values.items():
                self.assertIn('%s = %d %s' % (capsule._model.py_ident(const),
                                              lib.enums[name][const],
                                              flat(capsule._doc.python(text))[:30]), doc)
                n += 1
        for it in lib.ifaces.values():
            cls = getattr(capsule, it.name)
            self.assertIn(flat(capsule._doc.python(it.desc))[:60], flat(cls.__doc__), it.name)
            for m in it.methods:
                if m.builtin or it.name == 'ISupports':  # hand-written: query_interface...
                    continue
                self.assertTrue(m.desc, '%s.%s has no description' % (it.name, m.idl_name))
                attr = cls.__dict__[capsule._snake(m.idl_name)]
                doc = flat(attr.__doc__)
                first = flat(capsule._doc.python(m.desc, capsule._snake))[:60]
                self.assertIn(first, doc, '%s.%s' % (it.name, m.idl_name))
                for p in m.params:
                    if m.kind == 'method':
                        self.assertIn(flat(capsule._doc.python(p.desc, capsule._snake))[:40], doc)
                n += 1
        self.assertGreater(n, 200)

    def test_7_signatures(self):
        c = capsule.connect()
        sig = inspect.signature(capsule.ICapsule.create_machine)
        self.assertEqual(list(sig.parameters),
                         ['self', 'settings_file', 'name', 'os_type_id', 'id', 'force_overwrite'])
        self.assertEqual(sig.parameters['force_overwrite'].default, False)
        self.assertIs(sig.return_annotation, capsule.IMachine)
        sig = inspect.signature(c.get_machine_states)  # bound: no self
        self.assertEqual(list(sig.parameters), ['machines'])
        self.assertEqual(sig.return_annotation, list[capsule.MachineState])
        self.assertIn('launch_vm_process(self, session: capsule.ISession = None, type: str',
                      pydoc.render_doc(capsule.IMachine.launch_vm_process,
                                       renderer=pydoc.plaintext))
        # The call names that worked before still do: positional and keyword.
        self.assertEqual(c.compose_machine_filename('sig', '/tmp/x'), '/tmp/x/sig/sig.capsule')
        self.assertEqual(c.compose_machine_filename(name='sig', base_folder='/tmp/x'),
                         '/tmp/x/sig/sig.capsule')

    def test_8_repr_names_the_object(self):
        c = capsule.connect()
        m = c.create_machine(name='reprvm')
        self.assertEqual(repr(m), "<IMachine 'reprvm' {%s}>" % m.id)
        self.assertEqual(repr(c.host), '<IHost>')
        os_type = c.guest_os_types[0]
        self.assertEqual(repr(os_type), '<IGuestOSType id=%r>' % os_type.id)
        # An inaccessible machine cannot give its name: repr leaves it out.
        c.register_machine(m)
        with open(m.settings_file_path, 'w') as f:
            f.write('not xml')
        self.assertFalse(m.accessible)
        self.assertEqual(repr(m), '<IMachine {%s}>' % m.id)
        m.unregister()
        m.release()
        self.assertEqual(repr(m), '<IMachine (released)>')


if __name__ == '__main__':
    unittest.main(verbosity=2)
