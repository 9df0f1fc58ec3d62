"""capsule._model - the typelib as Python data, parsed from the native core's
capb_typelib_describe() text (record kinds documented in capbind_typelib.c), with
the IDL's descriptions attached from capsule-idlc's L_doc.json (installed
next to this file; format in sdk/idlc/emit_doc.c).

Shared by the runtime classes (capsule/__init__.py) and the Java source
generator (capsule/gen_java.py): both see the interfaces only through this
model, so neither has code for any particular interface.
"""
import json
import keyword
import os
import re


class Param:
    def __init__(self, index, name, type, dir, array, ref):
        self.index = index
        self.name = name
        self.type = type  # bool octet short ushort long ulong longlong ulonglong double string uuid enum iface
        self.dir = dir  # in out return
        self.array = array
        self.ref = ref  # enum or interface name, or None
        self.desc = ''  # the IDL's <desc>, markup kept ("@a x", "@link X")


class Method:
    def __init__(self, slot, name, idl_name, kind, flags):
        self.slot = slot
        self.name = name  # C slot style: getName, setMemorySize, findMachine
        self.idl_name = idl_name
        self.kind = kind  # method getter setter
        self.builtin = bool(flags & 1)
        self.params = []
        self.desc = ''  # the method's or attribute's <desc>

    @property
    def ins(self):
        return [p for p in self.params if p.dir == 'in']

    @property
    def outs(self):
        return [p for p in self.params if p.dir != 'in']


class Iface:
    def __init__(self, name, base, iid, first_own):
        self.name = name
        self.base = base
        self.iid = iid
        self.first_own = first_own
        self.methods = []
        self.desc = ''

    def all_methods(self, lib):
        """The methods of this interface and its bases, root first."""
        base = lib.ifaces.get(self.base) if self.base else None
        return (base.all_methods(lib) if base else []) + self.methods


class Library:
    def __init__(self, text):
        self.name = None
        self.results = {}  # name -> value
        self.enums = {}  # name -> {const: value}, in order
        self.ifaces = {}  # name -> Iface, bases first
        self.classes = {}  # name -> (clsid, contract, iface)
        self.desc = ''
        self.enum_docs = {}  # name -> (desc, {const: desc})
        self.result_docs = {}  # name -> desc
        enum = iface = method = None
        for line in text.splitlines():
            f = line.split('\t')
            k = f[0]
            if k == 'L':
                self.name = f[1]
            elif k == 'R':
                self.results[f[1]] = int(f[2])
            elif k == 'E':
                enum = self.enums[f[1]] = {}
            elif k == 'V':
                enum[f[1]] = int(f[2])
            elif k == 'I':
                iface = self.ifaces[f[1]] = Iface(f[1], None if f[2] == '-' else f[2], f[3], int(f[4]))
            elif k == 'M':
                method = Method(int(f[1]), f[2], f[3], f[4], int(f[5]))
                iface.methods.append(method)
            elif k == 'P':
                method.params.append(Param(len(method.params), f[1], f[2], f[3], f[4] == '1',
                                           None if f[5] == '-' else f[5]))
            elif k == 'C':
                self.classes[f[1]] = (f[2], f[3], f[4])

    def attach_docs(self, docs):
        """Attaches the descriptions of a parsed L_doc.json to the model."""
        self.desc = docs.get('desc', '')
        self.result_docs = dict(docs.get('results', {}))
        for name, e in docs.get('enums', {}).items():
            self.enum_docs[name] = (e.get('desc', ''), e.get('values', {}))
        for name, d in docs.get('interfaces', {}).items():
            it = self.ifaces.get(name)
            if it is None:
                continue
            it.desc = d.get('desc', '')
            attrs, methods = d.get('attributes', {}), d.get('methods', {})
            for m in it.methods:
                if m.kind == 'method':
                    md = methods.get(m.idl_name, {})
                    m.desc = md.get('desc', '')
                    for p in m.params:
                        p.desc = md.get('params', {}).get(p.name, '')
                else:
                    m.desc = attrs.get(m.idl_name, '')
                    for p in m.params:
                        p.desc = m.desc


def load_docs(lib, folder):
    """Attaches FOLDER/<library>_doc.json to `lib`; OSError/ValueError if the
    file is missing or not the JSON capsule-idlc writes."""
    with open(os.path.join(folder, '%s_doc.json' % lib.name), encoding='utf-8') as f:
        lib.attach_docs(json.load(f))


def snake(name):
    """memorySize -> memory_size, launchVMProcess -> launch_vm_process,
    guestOSTypes -> guest_os_types, sessionPID -> session_pid."""
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s).lower()
    return py_ident(s)


def py_ident(s):
    """A name usable in Python: a keyword gets a trailing underscore, as PEP 8
    advises (FirmwareType's None -> capsule.FirmwareType.None_)."""
    return s + '_' if keyword.iskeyword(s) else s


def event_iface(event_type_name):
    """The interface of an event type by the IDL's naming rule:
    OnMachineStateChanged -> IMachineStateChangedEvent."""
    if event_type_name.startswith('On'):
        return 'I' + event_type_name[2:] + 'Event'
    return None
