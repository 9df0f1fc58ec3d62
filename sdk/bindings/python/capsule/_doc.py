"""capsule._doc - the IDL's doc text rendered for Python docstrings and for
Javadoc (used by capsule/__init__.py and capsule/gen_java.py).

The text comes from capsule-idlc's L_doc.json: paragraphs separated by a
blank line, words by single spaces, and two markers kept as written:
"@a name" (a parameter of the method described) and "@link Name" (another
declaration of the IDL). Each renderer decides how those read in its
language; neither knows any particular interface.
"""
import re

_IDENT = re.compile(r'[A-Za-z0-9_]+')


def _paragraphs(text):
    """[[(kind, name, rest)...] per paragraph]: kind is 'word', 'param' (after
    @a) or 'link' (after @link); name is the identifier, rest what follows it
    in the same word ("." in "@link IMachine.")."""
    out = []
    for para in (text or '').split('\n\n'):
        words, pending = [], None
        for w in para.split():
            if pending is None and w in ('@a', '@link'):
                pending = 'param' if w == '@a' else 'link'
                continue
            m = _IDENT.match(w) if pending else None
            if m:
                words.append((pending, m.group(0), w[m.end():]))
            else:
                words.append(('word', w, ''))
            pending = None
        if words:
            out.append(words)
    return out


def python(text, param_name=lambda n: n, width=76, indent=''):
    """Plain text for a docstring: @a names as the binding spells params
    (param_name), @link names as they are (the classes have those names)."""
    paras = []
    for words in _paragraphs(text):
        paras.append('\n'.join(_wrap([param_name(n) + r if k == 'param' else n + r
                                      for k, n, r in words], width, indent)))
    return '\n\n'.join(paras)


def _wrap(words, width, indent=''):
    """Greedy word wrap (textwrap's cost is a tenth of a second at import)."""
    lines, cur = [], ''
    for w in words:
        if cur and len(indent) + len(cur) + 1 + len(w) > width:
            lines.append(indent + cur)
            cur = w
        else:
            cur = cur + ' ' + w if cur else w
    if cur:
        lines.append(indent + cur)
    return lines


def html(s):
    """Text safe inside a Javadoc comment: HTML specials escaped, no '@' to
    start a tag, no comment end, no backslash (javac reads \\u escapes even in
    comments)."""
    s = s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    return s.replace('@', '&#64;').replace('*/', '*&#47;').replace('\\', '&#92;')


def javadoc(text, linkable=(), param_name=lambda n: n):
    """The body of a Javadoc comment as a list of lines (no prefix):
    paragraphs after the first start with <p>, @a names become {@code name},
    @link names {@link Name} when `linkable` has them (a Java type of the
    package), {@code Name} otherwise."""
    lines = []
    for i, words in enumerate(_paragraphs(text)):
        out = []
        for k, n, r in words:
            if k == 'param':
                out.append("{@code %s}%s" % (param_name(n), html(r)))
            elif k == 'link':
                out.append(('{@link %s}' if n in linkable else '{@code %s}') % n + html(r))
            else:
                out.append(html(n))
        if i:
            lines.append('')
            out[0] = '<p>' + out[0]
        lines.extend(_wrap(out, 92))
    return lines
