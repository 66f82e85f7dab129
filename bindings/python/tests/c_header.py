"""A small parser of the C ABI's headers for the binding's drift test
(``header_drift_test.py``): comments, ``#include "..."`` of local headers,
integer ``#define``s, ``#ifdef __cplusplus`` blocks, enums, struct and
function pointer typedefs, and the prototypes. Anything at file level it does
not understand raises, so a new construct is taught rather than skipped.
"""
import os
import re

SCALARS = {
    "int": "c_int", "unsigned": "c_uint", "unsigned int": "c_uint", "size_t": "c_size_t",
    "int64_t": "c_int64", "uint64_t": "c_uint64", "int32_t": "c_int32", "uint32_t": "c_uint32",
    "uint8_t": "c_uint8", "char": "c_char", "long": "c_long", "unsigned long": "c_ulong",
    "double": "c_double", "void": "None",
}
QUALIFIERS = {"const", "volatile", "struct", "enum", "extern", "static", "inline", "restrict"}
TYPE_WORDS = {"unsigned", "signed", "int", "long", "short", "char"}


def read(path):
    with open(path) as f:
        return f.read()


class Header:
    """What the header declares: ``constants`` (enumerators and integer
    #defines), ``enums``, ``opaque`` and ``structs`` (name -> [(field, type)]),
    ``fn_types`` (function pointer typedefs), ``functions`` (name -> (return
    type, [parameter types])); a type is (base, pointer depth)."""

    def __init__(self):
        self.constants, self.enums, self.opaque, self.structs = {}, set(), set(), {}
        self.fn_types, self.functions, self.files = set(), {}, []


def read_header(path, opener=None):
    """Parses ``path`` and the local headers it includes (``#include "x"``,
    relative to the including file, then to the workspace root)."""
    opener = opener or read
    root = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    header = Header()
    code = []
    _preprocess(os.path.abspath(path), root, opener, header, code, set())
    for statement in _statements(" ".join(code)):
        _declaration(statement, header)
    return header


def _preprocess(path, root, opener, header, code, seen):
    if path in seen:
        return
    seen.add(path)
    header.files.append(path)
    text = re.sub(r"/\*.*?\*/", " ", opener(path), flags=re.S)
    text = re.sub(r"//[^\n]*", "", text).replace("\\\n", " ")
    active = []  # one flag per open #if: False inside `#ifdef __cplusplus`
    for line in text.split("\n"):
        d = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if not d:
            if all(active):
                code.append(line)
            continue
        word, rest = d.group(1), d.group(2).strip()
        if word in ("if", "ifdef", "ifndef"):
            cplusplus_only = "__cplusplus" in rest and word != "ifndef" and "!" not in rest
            active.append(not cplusplus_only)
        elif word == "else":
            active[-1] = not active[-1]
        elif word == "endif":
            active.pop()
        elif not all(active):
            continue
        elif word == "include" and rest.startswith('"'):
            _include(path, rest.split('"')[1], root, opener, header, code, seen)
        elif word == "define":
            m = re.match(r"(\w+)\s+(.+)$", rest)
            if m:
                value = _int(m.group(2), header.constants)
                if value is not None:
                    header.constants[m.group(1)] = value


def _include(path, name, root, opener, header, code, seen):
    for base in (os.path.dirname(path), root):
        candidate = os.path.normpath(os.path.join(base, name))
        try:
            opener(candidate)
        except OSError:
            continue
        return _preprocess(candidate, root, opener, header, code, seen)
    raise AssertionError(
        "%s includes %s, which is not here: give it to the test as data "
        "(bindings/python/BUILD.bazel, //capi:headers)" % (path, name))


def _int(expr, known):
    """The value of a small integer expression over ``known`` names, or None."""
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", lambda m: str(int(m.group(1), 0)),
                  expr.strip())
    expr = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: str(known.get(m.group(0), m.group(0))), expr)
    if not re.fullmatch(r"[\d\s()+\-*/<>|&~]+", expr):
        return None
    return int(eval(expr, {"__builtins__": {}}))  # digits and operators only


def _statements(code):
    """The file-level statements (split at `;` outside braces)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(code):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            out.append(" ".join(code[start:i].split()))
            start = i + 1
    if code[start:].strip():
        out.append(" ".join(code[start:].split()))
    return [s for s in out if s]


def _type(text):
    """(base, pointer depth) of a C type, a parameter's name dropped."""
    text = re.sub(r"__attribute__\s*\(\(.*?\)\)", " ", text)
    depth = text.count("*") + text.count("[")
    words = [w for w in re.findall(r"[A-Za-z_]\w*", re.sub(r"\[.*?\]", " ", text))
             if w not in QUALIFIERS and not re.fullmatch(r"[A-Z][A-Z0-9_]*", w)]
    if len(words) > 1 and not all(w in TYPE_WORDS for w in words):
        words = words[:-1]  # the parameter's name
    return " ".join(words), depth


def _enum(name, body, header):
    header.enums.add(name)
    value = -1
    for item in filter(None, (i.strip() for i in body.split(","))):
        name, _, expr = (p.strip() for p in item.partition("="))
        value = _int(expr, header.constants) if expr else value + 1
        if value is None:
            raise AssertionError("cannot evaluate the enumerator %r; teach c_header.py" % item)
        header.constants[name] = value


def _struct(m, header):
    fields = [f.strip() for f in m.group(1).split(";") if f.strip()]
    header.structs[m.group(2)] = [(re.findall(r"\w+", f)[-1], _type(f)) for f in fields]


def _prototype(m, header):
    params = [p.strip() for p in m.group(3).split(",")]
    if params in ([""], ["void"]):
        params = []
    header.functions[m.group(2)] = (_type(m.group(1)), [_type(p) for p in params])


# A file-level statement, whitespace collapsed: what it may be, first match wins.
_DECLARATIONS = [
    (r"typedef enum (?:\w+ )?\{(.*)\} (\w+)", lambda m, header: _enum(m[2], m[1], header)),
    (r"enum (\w+) ?\{(.*)\}", lambda m, header: _enum(m[1], m[2], header)),
    (r"typedef struct (\w+) (\w+)", lambda m, header: header.opaque.add(m.group(2))),
    (r"typedef struct (?:\w+ )?\{(.*)\} (\w+)", _struct),
    (r"typedef .*\( ?\* ?(\w+) ?\) ?\(.*\)", lambda m, header: header.fn_types.add(m.group(1))),
    (r"(.*?)\b(tubo_\w+) ?\(([^()]*)\)", _prototype),
]


def _declaration(s, header):
    for pattern, record in _DECLARATIONS:
        m = re.fullmatch(pattern, s)
        if m:
            return record(m, header)
    raise AssertionError("cannot parse this declaration; teach c_header.py: %r" % s)


def ctypes_for(header, ctype, structs):
    """The ctypes spellings that fit a C type (a set of strings); ``structs``
    maps a C struct to the name of its ctypes.Structure."""
    base, depth = ctype
    if depth == 0:
        if base in structs:
            return {structs[base]}
        if base in header.enums:
            return {"c_int"}
        if base in header.fn_types:
            return {"c_void_p"}
        if base in SCALARS:
            return {SCALARS[base]}
        return {"<no ctypes for %s>" % base}
    if depth == 1:
        if base == "void" or base in header.opaque:
            return {"c_void_p"}
        if base == "char":
            return {"c_char_p"}
        if base == "uint8_t":
            return {"c_void_p", "c_char_p", "POINTER(c_uint8)"}
    return {"POINTER(%s)" % t for t in ctypes_for(header, (base, depth - 1), structs)}

