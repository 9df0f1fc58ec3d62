#!/usr/bin/env python3
"""tools/layering.py - the layering check of the source tree.

Derives, from the sources alone:
  - the include graph: every `#include "..."` of the .c and .h files under
    sdk/, runtime/, vmm/, service/, plugins/ and hostdrivers/, resolved the
    way the build resolves it (the including file's folder, then every
    '#folder' an SConscript puts on CPPPATH, then sdk/include);
  - with --objs BUILD/obj, the call graph: which object file of a folder
    uses a symbol another object file of the same folder defines (`nm`).

and fails (exit 1, one line per problem) on
  1. an include cycle among the parts of one folder. A part is a header
     and the files named after it (STYLE.md: a module's .c files split by
     topic): X.h owns X.c, X_internal.h, X_topic.c and X_topic.h (the
     shortest header name that prefixes a file's name claims it; X_internal.h
     names part X even without an X.h); a .c file named after no header goes
     with the header that declares most of its exported functions. So
     service/'s machine.h + machine.c is one part, settings.h +
     settings_xml.h + settings_*.c another;
  2. a call cycle among the .c files of one folder (with --objs), unless
     the files all belong to one part by name;
  3. an include cycle between folders (vmm/em -> vmm/pgm -> vmm/em);
  4. an upward include between layers: LAYER_RULES below, the dependency
     rules of DESIGN.md ("Conventions that hold everywhere").

KNOWN lists cycles the tree is allowed to keep for now (empty: the last
one, capsule-vm's console.c <-> debugger.c, is gone); a known cycle is
printed, not failed, and one that is gone is reported so that the list
only shrinks.

Usage: layering.py [--root DIR] [--objs DIR] [--verbose]
Run by `scons check-layering` (tools/SConscript), which `scons check`
depends on; tests/tools/test_layering.py checks that it fails where it must.
"""
import argparse
import os
import re
import subprocess
import sys

TOPS = ('sdk', 'runtime', 'vmm', 'service', 'plugins', 'hostdrivers')

# (component, forbidden include targets, allowed exceptions). A component
# or target is a path prefix; the longest prefix names a file's component.
LAYER_RULES = [
    # The service never links the VMM: only the CPU profile table's header
    # and the platform's limits (header-only constants: the one definition
    # of the machine limits that ISystemProperties publishes and IMachine's
    # setters check, so the service cannot drift from the VM process).
    ('service', ('vmm/', 'plugins/', 'hostdrivers/', 'runtime/', 'sdk/session/'),
     ('vmm/cpum/cpum_profile.h', 'vmm/platform/platform_limits.h')),
    # The VMM knows nothing of the service, the frontends or IPC.
    ('vmm/', ('service/', 'plugins/frontends/', 'runtime/', 'sdk/session/'), ()),
    # The engines sit side by side under EM and report the neutral exit of
    # vmm/vmm_exit.h: none includes another or EM (raw hands rem the state
    # through CPUM; EM joins them in em_raw.c).
    ('vmm/rem/', ('vmm/hwaccm/', 'vmm/raw/', 'vmm/em/', 'service/', 'plugins/frontends/',
                  'runtime/', 'sdk/session/'), ()),
    ('vmm/hwaccm/', ('vmm/rem/', 'vmm/raw/', 'vmm/em/', 'service/', 'plugins/frontends/',
                     'runtime/', 'sdk/session/'), ()),
    ('vmm/raw/', ('vmm/rem/', 'vmm/hwaccm/', 'vmm/em/', 'service/', 'plugins/frontends/',
                  'runtime/', 'sdk/session/'), ()),
    # CSAM reads guest code through PGM (or a callback) and decodes it with
    # DIS; the raw engine and PATM will call it, never the other way.
    ('vmm/csam/', ('vmm/rem/', 'vmm/hwaccm/', 'vmm/raw/', 'vmm/em/', 'vmm/patm/', 'vmm/iom/',
                   'vmm/pdm/', 'service/', 'plugins/frontends/', 'runtime/', 'sdk/session/'), ()),
    # The decoder is a leaf: REM, CSAM, the tools and the debugger use it.
    ('vmm/dis/', ('vmm/csam/', 'vmm/rem/', 'vmm/em/', 'vmm/pgm/', 'vmm/cpum/', 'service/',
                  'plugins/frontends/', 'runtime/', 'sdk/session/'), ()),
    # Host drivers sit under the VMM, with their own results (hd_result.h).
    ('hostdrivers/', ('vmm/', 'service/', 'plugins/', 'runtime/', 'sdk/session/'), ()),
    # Device plugins see the PDM plugin API, never another layer's internals.
    ('plugins/devices/', ('service/', 'plugins/frontends/', 'hostdrivers/', 'runtime/',
                          'sdk/session/'), ()),
    # The component model knows nothing of IPC; the runtime nothing above it.
    ('runtime/objmodel/', ('runtime/ipc/', 'service/', 'vmm/', 'plugins/', 'hostdrivers/',
                           'sdk/session/'), ()),
    # Disk images (service and VM process alike) need no IPC either.
    ('runtime/vd/', ('runtime/ipc/', 'service/', 'vmm/', 'plugins/', 'hostdrivers/',
                     'sdk/session/'), ()),
    ('runtime/', ('service/', 'vmm/', 'plugins/', 'hostdrivers/', 'sdk/session/'), ()),
    # Client code (the Session class, the bindings, the CLI) links the SDK,
    # never the service or the VMM.
    ('sdk/', ('service/', 'vmm/', 'plugins/', 'hostdrivers/', 'runtime/'), ()),
    ('plugins/frontends/manage/', ('service/', 'vmm/', 'hostdrivers/', 'runtime/'), ()),
]

# Cycles of the tree when this check came, each a debt to pay back.
KNOWN = set()

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
CPPPATH_ENTRY = re.compile(r"'#([^']*)'")
# A function definition at the start of a line: "type name(" not static.
FUNC_DEF = re.compile(r'^(?!static\b)(?:[A-Za-z_][\w \*]*?[\s\*])([A-Za-z_]\w*)\s*\([^;]*?\)\s*\{',
                      re.M | re.S)
FUNC_DECL = re.compile(r'\b([A-Za-z_]\w*)\s*\(')


def rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, '/')


def source_files(root):
    for top in TOPS:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(('.c', '.h')):
                    yield rel(root, os.path.join(d, f))


def include_roots(root):
    """Every '#folder' an SConscript or the SConstruct puts on CPPPATH."""
    roots = ['sdk/include']
    scripts = [os.path.join(root, 'SConstruct')]
    for top in TOPS:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            scripts += [os.path.join(d, f) for f in files if f == 'SConscript']
    for path in scripts:
        if not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8', errors='replace') as fh:
            for line in fh:
                if 'CPPPATH' in line:
                    roots += [m.rstrip('/') for m in CPPPATH_ENTRY.findall(line) if m]
    seen, out = set(), []
    for r in roots:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


def resolve(root, roots, src, name):
    for base in [os.path.dirname(src)] + roots:
        cand = os.path.normpath(os.path.join(base, name)).replace(os.sep, '/')
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None  # generated (BUILD/include) or a system header


def read(root, path):
    with open(os.path.join(root, path), encoding='utf-8', errors='replace') as fh:
        return fh.read()


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def owner(stem, headers):
    """The shortest header stem that is `stem` or a prefix of it before '_'."""
    best = None
    for h in headers:
        if (stem == h or stem.startswith(h + '_')) and (best is None or len(h) < len(best)):
            best = h
    return best


def parts_of_folder(root, files):
    """Maps each file of one folder to its part (a header's stem)."""
    headers = {re.sub(r'_internal$', '', os.path.splitext(os.path.basename(f))[0])
               for f in files if f.endswith('.h')}
    decls = {}
    for f in files:
        if f.endswith('.h'):
            stem = os.path.splitext(os.path.basename(f))[0]
            decls.setdefault(owner(stem, headers), set()).update(
                FUNC_DECL.findall(strip_comments(read(root, f))))
    part = {}
    for f in files:
        stem = os.path.splitext(os.path.basename(f))[0]
        o = owner(stem, headers)
        if o:
            part[f] = o
            continue
        defined = set(FUNC_DEF.findall(strip_comments(read(root, f))))
        best, score = stem, 0
        for h, names in sorted(decls.items()):
            n = len(defined & names)
            if n > score:
                best, score = h, n
        part[f] = best
    return part


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def component(path):
    best = None
    for comp, _, _ in LAYER_RULES:
        if path.startswith(comp) and (best is None or len(comp) > len(best[0])):
            best = (comp,)
    return best[0] if best else None


def check_layers(edges):
    problems = []
    for src, dst in edges:
        comp = component(src)
        if not comp:
            continue
        rule = next(r for r in LAYER_RULES if r[0] == comp)
        if dst.startswith(comp.rstrip('/') + '/') or dst == comp:
            continue
        if dst in rule[2]:
            continue
        bad = next((f for f in rule[1] if dst.startswith(f)), None)
        if bad:
            problems.append('upward include: %s includes %s (%s must not depend on %s)'
                            % (src, dst, comp.rstrip('/'), bad.rstrip('/')))
    return problems


def object_symbols(paths):
    """{object: (defined, used)} for the object files, from one `nm -A -P`."""
    out = {p: (set(), set()) for p in paths}
    try:
        text = subprocess.run(['nm', '-A', '-P'] + paths, capture_output=True, text=True,
                              check=False).stdout
    except OSError:
        return out
    for line in text.splitlines():
        head, _, rest = line.partition(': ')
        f = rest.split()
        if head not in out or len(f) < 2:
            continue
        if f[1] == 'U':
            out[head][1].add(f[0])
        elif f[1] in 'TDBR':
            out[head][0].add(f[0])
    return out


def call_cycles(root, objs, folders, part_maps):
    """Cycles of the object files of each folder (who calls whom, from nm).
    Files that call each other inside one part, all named after it
    (machine.c and machine_file.c), are one topic split by size and may;
    any other cycle is a problem - so a hub header that declares the
    functions of every file (one part by declarations) hides nothing."""
    problems = []
    for folder, files in sorted(folders.items()):
        odir = os.path.join(objs, folder)
        if not os.path.isdir(odir):
            continue
        part = part_maps[folder]
        headers = {p for f, p in part.items() if f.endswith('.h')}
        obj_src = {}
        for f in files:
            o = os.path.join(odir, os.path.splitext(os.path.basename(f))[0] + '.o')
            if f.endswith('.c') and os.path.isfile(o):
                obj_src[o] = f
        if not obj_src:
            continue
        syms = object_symbols(sorted(obj_src))
        sym_owner = {}
        for o, (defined, _) in syms.items():
            for sym in defined:
                sym_owner[sym] = obj_src[o]
        graph = {}
        for o, (_, used) in syms.items():
            src = obj_src[o]
            graph[src] = {sym_owner[x] for x in used if x in sym_owner and sym_owner[x] != src}
        for c in cycles(graph):
            named = {owner(os.path.splitext(os.path.basename(f))[0], headers) for f in c}
            if len(named) == 1 and None not in named:
                continue
            problems.append('call cycle in %s/: %s' % (folder, ' <-> '.join(
                os.path.basename(f) for f in c)))
    return problems


def check(root, objs=None, verbose=False):
    roots = include_roots(root)
    files = list(source_files(root))
    folders = {}
    for f in files:
        folders.setdefault(os.path.dirname(f), []).append(f)
    edges = []
    for f in files:
        for name in INCLUDE.findall(strip_comments(read(root, f))):
            dst = resolve(root, roots, f, name)
            if dst:
                edges.append((f, dst))
    problems = check_layers(edges)
    part_maps = {d: parts_of_folder(root, fs) for d, fs in folders.items()}
    for folder, fs in sorted(folders.items()):
        part = part_maps[folder]
        graph = {p: set() for p in part.values()}
        for src, dst in edges:
            if src in part and dst in part and part[src] != part[dst]:
                graph[part[src]].add(part[dst])
        for c in cycles(graph):
            problems.append('include cycle in %s/: %s' % (folder, ' <-> '.join(c)))
        if verbose and folder == 'service':
            for p in sorted(graph):
                print('%s -> %s' % (p, ', '.join(sorted(graph[p])) or '-'))
    between = {}
    for src, dst in edges:
        a, b = os.path.dirname(src), os.path.dirname(dst)
        if a != b:
            between.setdefault(a, set()).add(b)
    for c in cycles(between):
        problems.append('include cycle between folders: %s' % ' <-> '.join(c))
    if objs:
        problems += call_cycles(root, objs, folders, part_maps)
    return problems, len(files), len(edges)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.path.join(os.path.dirname(__file__), '..'))
    ap.add_argument('--objs', help='BUILD/obj, for the call graph from nm')
    ap.add_argument('--verbose', action='store_true', help="print service/'s part graph")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    found, n_files, n_edges = check(root, a.objs, a.verbose)
    problems = [p for p in found if p not in KNOWN]
    for p in sorted(set(found) & KNOWN):
        print('layering: known: ' + p)
    if a.objs and os.path.isfile(os.path.join(root, 'SConstruct')):
        # Only the real tree's known cycles can be gone.
        for k in sorted(KNOWN - set(found)):
            folder = re.match(r'call cycle in (\S+)/:', k)
            if not folder or os.path.isdir(os.path.join(a.objs, folder.group(1))):
                problems.append('a known cycle is gone (remove it from KNOWN): ' + k)
    for p in problems:
        print('layering: ' + p)
    if problems:
        print('layering: %d problem(s)' % len(problems))
        return 1
    print('layering: ok (%d files, %d includes%s)'
          % (n_files, n_edges, ', call graph from nm' if a.objs else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
