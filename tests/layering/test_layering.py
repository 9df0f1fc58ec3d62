#!/usr/bin/env python3
"""tests/layering/test_layering.py - the layering check (tools/layering.py)
on tiny fake trees: it passes a clean one and fails, naming the problem, on
each kind of fault it exists to catch. `scons check-layering`."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tools'))
import layering  # noqa: E402


def tree(files):
    root = tempfile.mkdtemp(prefix='layering-')
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)
    return root


CLEAN = {
    'service/SConscript': "e.Append(CPPPATH=['#vmm'])\n",
    'service/core.h': 'int core_lock(void);\n',
    'service/core.c': '#include "core.h"\nint core_lock(void) { return 0; }\n',
    'service/machine.h': '#include "core.h"\nint machine_new(void);\n',
    'service/machine.c': '#include "machine.h"\nint machine_new(void) { return core_lock(); }\n',
    'service/machine_file.c': '#include "machine.h"\n',
    'service/capsule.c': '#include "machine.h"\n#include "root.h"\n'
                         'int root_create(void) { return machine_new(); }\n',
    'service/root.h': 'int root_create(void);\n',
    'service/cpuprofile.c': '#include "cpum/cpum_profile.h"\n',
    'vmm/cpum/cpum_profile.h': '\n',
    'vmm/em/em.h': '#include "../pgm/pgm.h"\n',
    'vmm/pgm/pgm.h': '\n',
    'runtime/objmodel/object.c': '#include "../../sdk/include/capsule/object.h"\n',
    'sdk/include/capsule/object.h': '\n',
}


class LayeringTest(unittest.TestCase):
    def run_check(self, files, objs=None):
        root = tree(files)
        self.addCleanup(shutil.rmtree, root)
        problems, _, _ = layering.check(root, objs(root) if objs else None)
        return problems

    def test_clean_tree_passes(self):
        self.assertEqual(self.run_check(CLEAN), [])

    def test_parts_follow_names(self):
        root = tree(CLEAN)
        self.addCleanup(shutil.rmtree, root)
        files = [f for f in layering.source_files(root) if f.startswith('service/')]
        part = layering.parts_of_folder(root, files)
        self.assertEqual(part['service/machine_file.c'], 'machine')
        self.assertEqual(part['service/capsule.c'], 'root')  # by what it defines

    def test_include_cycle_between_parts_fails(self):
        files = dict(CLEAN)
        files['service/core.c'] = '#include "core.h"\n#include "machine.h"\n'
        problems = self.run_check(files)
        self.assertIn('include cycle in service/: core <-> machine', problems)

    def test_header_cycle_fails(self):
        files = dict(CLEAN)
        files['service/core.h'] = '#include "root.h"\n'
        files['service/root.h'] = '#include "machine.h"\n'
        problems = self.run_check(files)
        self.assertTrue(any(p.startswith('include cycle in service/') for p in problems),
                        problems)

    def test_folder_cycle_fails(self):
        files = dict(CLEAN)
        files['vmm/pgm/pgm.h'] = '#include "../em/em.h"\n'
        problems = self.run_check(files)
        self.assertIn('include cycle between folders: vmm/em <-> vmm/pgm', problems)

    def test_service_including_the_vmm_fails(self):
        files = dict(CLEAN)
        files['service/machine.c'] += '#include "em/em.h"\n'
        problems = self.run_check(files)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn('service/machine.c includes vmm/em/em.h', problems[0])

    def test_vmm_including_the_service_fails(self):
        files = dict(CLEAN)
        files['vmm/em/em.c'] = '#include "../../service/core.h"\n'
        problems = self.run_check(files)
        self.assertIn('upward include: vmm/em/em.c includes service/core.h (vmm must not '
                      'depend on service)', problems)

    def test_engine_including_the_other_engine_fails(self):
        files = dict(CLEAN)
        files['vmm/hwaccm/hwaccm.h'] = '#include "../vmm_exit.h"\n'
        files['vmm/vmm_exit.h'] = '\n'
        files['vmm/rem/rem.h'] = '#include "../vmm_exit.h"\n'
        self.assertEqual(self.run_check(files), [])
        files['vmm/rem/rem.h'] += '#include "../hwaccm/hwaccm.h"\n'
        self.assertIn('upward include: vmm/rem/rem.h includes vmm/hwaccm/hwaccm.h (vmm/rem must '
                      'not depend on vmm/hwaccm)', self.run_check(files))

    def test_host_driver_including_the_vmm_fails(self):
        files = dict(CLEAN)
        files['vmm/vmm_result.h'] = '\n'
        files['hostdrivers/hd_result.h'] = '\n'
        files['hostdrivers/linux/hd_kvm.h'] = '#include "../hd_result.h"\n'
        self.assertEqual(self.run_check(files), [])
        files['hostdrivers/linux/hd_kvm.h'] += '#include "../../vmm/vmm_result.h"\n'
        self.assertIn('upward include: hostdrivers/linux/hd_kvm.h includes vmm/vmm_result.h '
                      '(hostdrivers must not depend on vmm)', self.run_check(files))

    def test_objmodel_including_ipc_fails(self):
        files = dict(CLEAN)
        files['runtime/ipc/ipc_internal.h'] = '\n'
        files['runtime/objmodel/object.c'] += '#include "../ipc/ipc_internal.h"\n'
        problems = self.run_check(files)
        self.assertTrue(any('runtime/objmodel/object.c includes runtime/ipc/' in p
                            for p in problems), problems)

    @unittest.skipUnless(shutil.which('cc') and shutil.which('nm'), 'needs cc and nm')
    def test_call_cycle_fails(self):
        files = dict(CLEAN)
        # machine.c calls core_lock (core.c) and core.c calls machine_new:
        # no include says so, the objects do.
        files['service/core.c'] = ('#include "core.h"\nint machine_new(void);\n'
                                   'int core_lock(void) { return machine_new(); }\n')

        def build(root):
            objs = os.path.join(root, 'obj')
            os.makedirs(os.path.join(objs, 'service'))
            for c in ('core', 'machine'):
                subprocess.run(['cc', '-c', '-o', os.path.join(objs, 'service', c + '.o'),
                                os.path.join(root, 'service', c + '.c')], check=True)
            return objs
        problems = self.run_check(files, build)
        self.assertIn('call cycle in service/: core.c <-> machine.c', problems)

    @unittest.skipUnless(shutil.which('cc') and shutil.which('nm'), 'needs cc and nm')
    def test_hub_header_hides_no_call_cycle(self):
        # The old service/: one internal header declares every file's
        # functions, so the includes show no circle; the objects do.
        files = {
            'service/hub_internal.h': 'int a_fn(void);\nint b_fn(void);\n',
            'service/alpha.c': '#include "hub_internal.h"\nint a_fn(void) { return b_fn(); }\n',
            'service/beta.c': '#include "hub_internal.h"\nint b_fn(void) { return a_fn(); }\n',
        }

        def build(root):
            objs = os.path.join(root, 'obj')
            os.makedirs(os.path.join(objs, 'service'))
            for c in ('alpha', 'beta'):
                subprocess.run(['cc', '-c', '-o', os.path.join(objs, 'service', c + '.o'),
                                os.path.join(root, 'service', c + '.c')], check=True)
            return objs
        self.assertEqual(self.run_check(files), [])  # the includes alone pass
        problems = self.run_check(files, build)
        self.assertIn('call cycle in service/: alpha.c <-> beta.c', problems)

    @unittest.skipUnless(shutil.which('cc') and shutil.which('nm'), 'needs cc and nm')
    def test_vmproc_console_debugger_cycle_fails(self):
        # capsule-vm's console owns its debugger (debugger.h); the debugger
        # calling back into console.c is a cycle again, and no longer known.
        files = {
            'plugins/frontends/vmproc/debugger.h': 'int debugger_init(void);\n',
            'plugins/frontends/vmproc/managed.h': 'int console_get_vm(void);\n',
            'plugins/frontends/vmproc/console.c':
                '#include "debugger.h"\n#include "managed.h"\n'
                'int console_get_vm(void) { return debugger_init(); }\n',
            'plugins/frontends/vmproc/debugger.c':
                '#include "debugger.h"\n#include "managed.h"\n'
                'int debugger_init(void) { return console_get_vm(); }\n',
        }

        def build(root):
            objs = os.path.join(root, 'obj')
            folder = os.path.join('plugins', 'frontends', 'vmproc')
            os.makedirs(os.path.join(objs, folder))
            for c in ('console', 'debugger'):
                subprocess.run(['cc', '-c', '-o', os.path.join(objs, folder, c + '.o'),
                                os.path.join(root, folder, c + '.c')], check=True)
            return objs
        problems = self.run_check(files, build)
        cycle = 'call cycle in plugins/frontends/vmproc/: console.c <-> debugger.c'
        self.assertIn(cycle, problems)
        self.assertNotIn(cycle, layering.KNOWN)

    def test_real_tree_passes(self):
        root = os.path.join(HERE, '..', '..')
        problems, n_files, _ = layering.check(os.path.abspath(root))
        self.assertEqual([p for p in problems if p not in layering.KNOWN], [])
        self.assertGreater(n_files, 100)


if __name__ == '__main__':
    unittest.main()
