"""capsule.gen_java - writes the Java classes of every interface and enum
of the typelib (python3 -m capsule.gen_java OUTDIR).

Run at build time by sdk/bindings/SConscript. It reads the same typelib model
as the Python classes (capsule._model, from the native core) and emits, in
package org.capsule:

  - one enum per IDL enum (implements CapsuleEnum: value(), fromValue());
  - one class per interface, extending its base's class (ISupports is the
    hand-written root), with getX()/setX() per attribute and one method per
    IDL method; in params are arguments, out and return params the result
    (a nested XResult class where there are several); arrays are Lists.

Every generated method body is the same four steps through the
hand-written org.capsule.Call (frame, set ins, invoke, get outs), so the
generated code is short and carries no marshaling of its own.

Every class, method, getter/setter, result field, enum constant and result
code gets a Javadoc comment made from the IDL's description (capsule._doc),
complete enough for `javadoc -Xdoclint:all` to pass without a warning.
"""
import os
import sys

from . import _doc
from . import native
from ._model import Library, load_docs

JAVA_KEYWORDS = set('''abstract assert boolean break byte case catch char class const continue
default do double else enum extends final finally float for goto if implements import
instanceof int interface long native new package private protected public return short static
strictfp super switch synchronized this throw throws transient try void volatile while true
false null var record yield'''.split())
OBJECT_METHODS = {'getClass', 'hashCode', 'equals', 'toString', 'notify', 'notifyAll', 'wait',
                  'finalize', 'clone', 'close'}

# IDL type -> (Java type, boxed type, Call getter suffix)
SCALARS = {
    'bool': ('boolean', 'Boolean', 'Bool'),
    'octet': ('byte', 'Byte', 'Byte'),
    'short': ('short', 'Short', 'Short'),
    'ushort': ('int', 'Integer', 'Int'),
    'long': ('int', 'Integer', 'Int'),
    'ulong': ('long', 'Long', 'Long'),
    'longlong': ('long', 'Long', 'Long'),
    'ulonglong': ('long', 'Long', 'Long'),
    'double': ('double', 'Double', 'Double'),
    'string': ('String', 'String', 'String'),
    'uuid': ('java.util.UUID', 'java.util.UUID', 'Uuid'),
}


def ident(name):
    return name + '_' if name in JAVA_KEYWORDS else name


def jtype(p, boxed=False):
    if p.type in SCALARS:
        t = SCALARS[p.type][1 if (boxed or p.array) else 0]
    else:
        t = p.ref
    return 'java.util.List<%s>' % t if p.array else t


def getter_expr(p):
    i = p.index
    if p.type in SCALARS:
        return 'f.get%s%s(%d)' % (SCALARS[p.type][2], 'List' if p.array else '', i)
    kind = 'Enum' if p.type == 'enum' else 'Obj'
    return 'f.get%s%s(%d, %s.class)' % (kind, 'List' if p.array else '', i, p.ref)


def cap(s):
    return s[0].upper() + s[1:]


# Names {@link} may point at: the package's classes (set by main()).
LINKABLE = set()


def comment(indent, lines, tags=()):
    """A Javadoc comment: the body lines, then block tags (lists of lines)."""
    out = [indent + '/**']
    out += [(indent + ' * ' + x).rstrip() for x in lines]
    if lines and tags:
        out.append(indent + ' *')
    for tag in tags:
        out += [(indent + ' * ' + x).rstrip() for x in tag]
    return '\n'.join(out) + '\n' + indent + ' */\n'


def doc(text, fallback):
    return _doc.javadoc(text, LINKABLE) or [_doc.html(fallback)]


def tag(name, text, fallback):
    """A block tag (@param x ..., @return ...) with its text wrapped under it."""
    body = doc(text, fallback)
    return ['%s %s' % (name, body[0])] + ['    ' + x for x in body[1:]]


def method_doc(it, m):
    """The Javadoc of one generated method."""
    where = 'IDL %s::%s' % (it.name, m.idl_name)
    throws = ['@throws CapsuleException if the call fails (the service\'s message and code)']
    if m.kind == 'getter':
        body = doc(m.desc, where + '.')
        tags = [['@return the value of {@code %s}' % m.idl_name], throws]
    elif m.kind == 'setter':
        body = doc(m.desc, where + '.')
        p = m.ins[0]
        tags = [['@param %s the new value of {@code %s}' % (ident(p.name), m.idl_name)], throws]
    else:
        body = doc(m.desc, where + '.')
        tags = [tag('@param ' + ident(p.name), p.desc, p.name) for p in m.ins]
        outs = m.outs
        if len(outs) == 1:
            tags.append(tag('@return', outs[0].desc, outs[0].name))
        elif outs:
            tags.append(['@return the results: ' + ', '.join('{@code %s}' % ident(p.name)
                                                             for p in outs)])
        tags.append(throws)
    return comment('    ', body + ['', '<p>%s (%s).' % (where, m.kind)], tags)


def method_code(it, m):
    """The Java source of one slot (getter, setter or method) of `it`."""
    if m.kind == 'getter':
        name = 'get' + cap(m.idl_name)
    elif m.kind == 'setter':
        name = 'set' + cap(m.idl_name)
    else:
        name = ident(m.idl_name)
    if name in OBJECT_METHODS:
        name += '_'
    ins, outs = m.ins, m.outs
    args = ', '.join('%s %s' % (jtype(p), ident(p.name)) for p in ins)
    extra = ''
    if not outs:
        ret = 'void'
    elif len(outs) == 1:
        ret = jtype(outs[0])
    else:
        ret = cap(m.idl_name) + 'Result'
        params = ', '.join('%s %s' % (jtype(p), ident(p.name)) for p in outs)
        assigns = ''.join('            this.%s = %s;\n' % (ident(p.name), ident(p.name))
                          for p in outs)
        fields = ''.join(comment('        ', doc(p.desc, p.name)) +
                         '        public final %s %s;\n' % (jtype(p), ident(p.name)) for p in outs)
        extra = ('    /** The results of {@link %s#%s}. */\n    public static final class %s {\n%s'
                 '        %s(%s) {\n%s        }\n    }\n\n'
                 % (it.name, name, ret, fields, ret, params, assigns))
    body = '        try (Call f = new Call(this, %d)) {\n' % m.slot
    for p in ins:
        body += '            f.%s(%d, %s);\n' % ('inList' if p.array else 'in', p.index,
                                                 ident(p.name))
    body += '            f.invoke();\n'
    if len(outs) == 1:
        body += '            return %s;\n' % getter_expr(outs[0])
    elif outs:
        body += '            return new %s(%s);\n' % (ret, ', '.join(getter_expr(p) for p in outs))
    body += '        }\n'
    return extra + method_doc(it, m) + '    public %s %s(%s) {\n%s    }\n' % (ret, name, args, body)


def iface_source(it):
    body = doc(it.desc, 'The %s interface.' % it.name)
    body += ['', '<p>IDL interface %s, IID {@code %s}.' % (it.name, it.iid)]
    out = ['// %s.java - generated by capsule.gen_java from the typelib; do not edit.\n'
           'package org.capsule;\n\n%s'
           'public class %s extends %s {\n'
           '    /** The interface ID. */\n'
           '    public static final String IID = "%s";\n\n'
           '    /**\n'
           '     * Wraps a native object; objects come from the API, never from user code.\n'
           '     *\n     * @param o the native object, owned by the new wrapper\n     */\n'
           '    protected %s(org.capsule.jni.NativeObject o) {\n        super(o);\n    }\n\n'
           % (it.name, comment('', body), it.name, it.base, it.iid, it.name)]
    for m in it.methods:
        if not m.builtin:
            out.append(method_code(it, m) + '\n')
    out.append('}\n')
    return ''.join(out)


def enum_source(name, values, docs):
    desc, vdocs = docs
    consts = ',\n'.join(comment('    ', doc(vdocs.get(k), '%s = %d.' % (k, v))) +
                        '    %s(%d)' % (ident(k), v) for k, v in values.items())
    return ('// %s.java - generated by capsule.gen_java from the typelib; do not edit.\n'
            'package org.capsule;\n\n%s'
            'public enum %s implements CapsuleEnum {\n%s;\n\n'
            '    private final int value;\n\n'
            '    %s(int value) {\n        this.value = value;\n    }\n\n'
            '    /** @return the value of the constant in the IDL and over IPC */\n'
            '    @Override\n    public int value() {\n        return value;\n    }\n\n'
            '    /**\n     * The constant with this value.\n     *\n'
            '     * @param value a value of the IDL enum\n     * @return its constant\n'
            '     * @throws IllegalArgumentException if no constant has that value\n     */\n'
            '    public static %s fromValue(int value) {\n'
            '        for (%s e : values())\n            if (e.value == value)\n'
            '                return e;\n'
            '        throw new IllegalArgumentException("no %s with value " + value);\n'
            '    }\n}\n' % (name, comment('', doc(desc, 'The %s enum of the IDL.' % name)), name,
                          consts, name, name, name, name))


def results_source(results, docs):
    consts = ''.join(comment('    ', doc(docs.get(k), k)) +
                     '    public static final int %s = 0x%08x;\n' % (k, v & 0xFFFFFFFF)
                     for k, v in results.items())
    return ('// Results.java - generated by capsule.gen_java from the typelib; do not edit.\n'
            'package org.capsule;\n\n/** The result codes of the IDL (CapsuleException.code). */\n'
            'public final class Results {\n    private Results() {\n    }\n\n%s}\n' % consts)


def main(outdir):
    lib = Library(native.capb_typelib_describe())
    load_docs(lib, os.path.dirname(__file__))
    LINKABLE.update(lib.ifaces, lib.enums)
    pkg = os.path.join(outdir, 'org', 'capsule')
    os.makedirs(pkg, exist_ok=True)
    files = {'Results.java': results_source(lib.results, lib.result_docs)}
    for name, values in lib.enums.items():
        files[name + '.java'] = enum_source(name, values, lib.enum_docs.get(name, ('', {})))
    for it in lib.ifaces.values():
        if it.name != 'ISupports':
            files[it.name + '.java'] = iface_source(it)
    for fname, text in files.items():
        with open(os.path.join(pkg, fname), 'w', encoding='utf-8') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
