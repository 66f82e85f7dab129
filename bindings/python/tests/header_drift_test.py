"""The binding against the C header: no drift between capi/tubo.h (and the
local headers it includes) and what tubo/_lib.py and tubo/errors.py say.

- Every ``_declare(name, restype, *argtypes)`` in ``_lib.py`` names a function
  of the header, with the ctypes of its C return type and of each parameter
  (int -> c_int, size_t -> c_size_t, int64_t -> c_int64, an opaque handle ->
  c_void_p, tubo_end ** -> POINTER(c_void_p), char * -> c_char_p, ...).
  ``_lib.py`` is read as source, so c_size_t and c_uint64 (one type on
  x86-64) still differ; the loaded functions must carry those signatures too.
- Every tubo_* function the package calls is declared.
- Every integer constant of ``_lib.py`` (``E_TIMEOUT`` for ``TUBO_E_TIMEOUT``,
  ``END_READ``, ``STDIN``, ``SUPPORTED_MAJOR``...) equals the header's value,
  and ``Bytes`` has the fields of ``tubo_bytes``.
- Every ``TUBO_E_*`` code has its exception class in ``errors.py``, whose
  ``code`` is that value (a class documented as ``TUBO_E_X`` has X's value).

The headers are parsed by ``c_header.py`` (comments, ``#include "..."`` of
local headers, ``#define``, ``__cplusplus`` blocks, enums, typedefs,
prototypes); anything at file level it does not understand fails the test
rather than being skipped. ``CatchesDriftTest`` shows each check failing on
an edited header, ``ParserTest`` the parser on an umbrella and a topic header.
"""
import ast
import ctypes
import os
import re
import unittest

import testing
import tubo
from c_header import ctypes_for, read, read_header
from tubo import _lib, errors

PACKAGE = os.path.dirname(os.path.abspath(tubo.__file__))
ROOT_HEADER = "capi/tubo.h"

# Python's name for a header constant that is not TUBO_<name>.
PY_TO_HEADER = {"SUPPORTED_MAJOR": "TUBO_VERSION_MAJOR"}
# C struct -> its ctypes.Structure in _lib.py.
STRUCTS = {"tubo_bytes": "Bytes"}
CLASSES = sorted(set(errors._BY_CODE.values()), key=lambda c: c.__name__)


def fits(header, ctype):
    return ctypes_for(header, ctype, STRUCTS)


# -- the binding, read as source -----------------------------------------------

class Sym:
    """A ctypes type by the name the source spells it with."""

    def __init__(self, name):
        self.name = name


class SymCtypes:
    def __getattr__(self, attr):
        if attr == "POINTER":
            return lambda t: Sym("POINTER(%s)" % spell(t))
        return Sym(attr)


def spell(t):
    return "None" if t is None else t.name


def read_binding(source):
    """(declarations, constants, structs) of ``_lib.py``'s source: name ->
    (restype, [argtypes]) spelled as strings; NAME -> int; class -> fields."""
    tree = ast.parse(source)
    ns = {"ctypes": SymCtypes(), "__builtins__": {}}
    constants, structs = {}, {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            ns[node.name] = Sym(node.name)
            for item in node.body:
                if isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == "_fields_":
                    fields = eval(compile(ast.Expression(item.value), "_lib.py", "eval"), ns)
                    structs[node.name] = [(f, spell(t)) for f, t in fields]
        elif isinstance(node, ast.Assign):
            try:
                value = eval(compile(ast.Expression(node.value), "_lib.py", "eval"), ns)
            except Exception:
                continue  # not made of types and numbers (the library, say)
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                values = value if isinstance(target, ast.Tuple) else [value]
                for name, v in zip(names, values):
                    ns[name.id] = v
                    if type(v) is int and name.id.isupper():
                        constants[name.id] = v
    declared = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_declare":
            args = [eval(compile(ast.Expression(a), "_lib.py", "eval"), ns) for a in node.args]
            declared[args[0]] = (spell(args[1]), [spell(a) for a in args[2:]])
    return declared, constants, structs


# -- the checks ------------------------------------------------------------------

def check_signatures(header, declared):
    problems = []
    for name, (restype, argtypes) in sorted(declared.items()):
        if name not in header.functions:
            problems.append("%s: declared in _lib.py, not in the header" % name)
            continue
        ret, params = header.functions[name]
        if restype not in fits(header, ret):
            problems.append("%s: returns %s in C, restype %s in _lib.py"
                            % (name, _c(ret), restype))
        if len(params) != len(argtypes):
            problems.append("%s: %d parameters in C, %d argtypes in _lib.py"
                            % (name, len(params), len(argtypes)))
            continue
        for i, (param, argtype) in enumerate(zip(params, argtypes)):
            if argtype not in fits(header, param):
                problems.append("%s: parameter %d is %s in C, %s in _lib.py"
                                % (name, i + 1, _c(param), argtype))
    return problems


def _c(ctype):
    return ctype[0] + " " + "*" * ctype[1] if ctype[1] else ctype[0]


def check_constants(header, constants):
    problems = []
    for name, value in sorted(constants.items()):
        c_name = PY_TO_HEADER.get(name, "TUBO_" + name)
        if c_name not in header.constants:
            problems.append("_lib.%s: no %s in the header" % (name, c_name))
        elif header.constants[c_name] != value:
            problems.append("_lib.%s = %d, but %s = %d in the header"
                            % (name, value, c_name, header.constants[c_name]))
    return problems


def check_exceptions(header, error_class, classes):
    problems = []
    for c_name, value in sorted(header.constants.items()):
        if not c_name.startswith("TUBO_E_"):
            continue
        cls = error_class(value)
        if cls.code != value or (cls is errors.TuboError and c_name != "TUBO_E_OTHER"):
            problems.append("%s (%d): no exception class in errors.py" % (c_name, value))
    for cls in classes:
        named = re.match(r"(TUBO_E_\w+)", cls.__doc__ or "")
        if named and header.constants.get(named.group(1)) != cls.code:
            problems.append("%s documents %s but has code %d" % (cls.__name__, named.group(1),
                                                                 cls.code))
    return problems


def check_structs(header, structs):
    problems = []
    for c_name, py_name in STRUCTS.items():
        c_fields, py_fields = header.structs.get(c_name), structs.get(py_name)
        if c_fields is None or py_fields is None:
            problems.append("struct %s / _lib.%s: missing" % (c_name, py_name))
            continue
        if [f for f, _ in c_fields] != [f for f, _ in py_fields]:
            problems.append("%s: fields %s in C, %s in _lib.py"
                            % (py_name, [f for f, _ in c_fields], [f for f, _ in py_fields]))
            continue
        for (field, ctype), (_, pytype) in zip(c_fields, py_fields):
            if pytype not in fits(header, ctype):
                problems.append("%s.%s: %s in C, %s in _lib.py" % (py_name, field, _c(ctype),
                                                                    pytype))
    return problems


def package_sources():
    return {n: read(os.path.join(PACKAGE, n))
            for n in sorted(os.listdir(PACKAGE)) if n.endswith(".py")}


class DriftTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.header = read_header(testing.runfile(ROOT_HEADER))
        cls.lib_source = read(_lib.__file__)
        cls.declared, cls.constants, cls.structs = read_binding(cls.lib_source)

    def assertNoProblems(self, problems):
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_the_parser_sees_the_header(self):
        self.assertIn("tubo_end_send", self.header.functions)
        self.assertEqual(self.header.constants["TUBO_OK"], 0)
        self.assertIn("tubo_end", self.header.opaque)
        self.assertGreater(len(self.declared), 50)

    def test_signatures_match_the_prototypes(self):
        self.assertNoProblems(check_signatures(self.header, self.declared))

    def test_the_loaded_functions_carry_those_signatures(self):
        def real(name):
            m = re.fullmatch(r"POINTER\((.*)\)", name)
            if m:
                return ctypes.POINTER(real(m.group(1)))
            return None if name == "None" else getattr(_lib, name, None) or getattr(ctypes, name)
        for name, (restype, argtypes) in self.declared.items():
            f = getattr(_lib.lib, name)
            self.assertEqual((f.restype, tuple(f.argtypes)),
                             (real(restype), tuple(real(a) for a in argtypes)), name)

    def test_every_function_called_is_declared(self):
        # Attributes (_c.tubo_end_send) and whole strings ("tubo_channel_take_read_end").
        for file, source in package_sources().items():
            for node in ast.walk(ast.parse(source)):
                name = getattr(node, "attr", None) or getattr(node, "value", None)
                if isinstance(name, str) and re.fullmatch(r"tubo_\w+", name):
                    self.assertIn(name, self.declared, "%s uses %s" % (file, name))

    def test_constants_match(self):
        self.assertIn("E_TIMEOUT", self.constants)
        self.assertNoProblems(check_constants(self.header, self.constants))

    def test_constants_used_exist(self):
        for file, source in package_sources().items():
            for name in set(re.findall(r"\b_lib\.([A-Z][A-Z0-9_]*)\b", source)):
                self.assertIn(name, self.constants, "%s uses _lib.%s" % (file, name))

    def test_every_code_has_its_exception(self):
        self.assertNoProblems(check_exceptions(self.header, errors.error_class, CLASSES))

    def test_structs_match(self):
        self.assertNoProblems(check_structs(self.header, self.structs))


class CatchesDriftTest(unittest.TestCase):
    """Each check sees an edit of the parsed header (edited as parsed, so these
    hold however the header is laid out or split)."""

    def setUp(self):
        self.header = read_header(testing.runfile(ROOT_HEADER))
        self.declared, self.constants, _ = read_binding(read(_lib.__file__))

    def signature_problems(self, name, ret=None, params=lambda params: params):
        """check_signatures once ``name`` returns ``ret`` and takes ``params(its params)``."""
        old_ret, old_params = self.header.functions[name]
        self.header.functions[name] = (ret or old_ret, params(old_params))
        return check_signatures(self.header, self.declared)

    def test_a_changed_parameter_type(self):
        self.assertEqual(self.signature_problems("tubo_end_poll",
                                                 params=lambda p: p[:2] + [("int", 0)] + p[3:]),
                         ["tubo_end_poll: parameter 3 is int in C, c_int64 in _lib.py"])

    def test_size_t_is_not_uint64(self):
        self.assertEqual(self.signature_problems("tubo_end_max_message_size", ("size_t", 0)), [
            "tubo_end_max_message_size: returns size_t in C, restype c_uint64 in _lib.py"])

    def test_a_new_parameter(self):
        self.assertEqual(self.signature_problems("tubo_end_flush",
                                                 params=lambda p: p[:1] + [("int", 0)] + p[1:]),
                         ["tubo_end_flush: 3 parameters in C, 2 argtypes in _lib.py"])

    def test_a_removed_function(self):
        del self.header.functions["tubo_end_flush"]
        self.assertEqual(check_signatures(self.header, self.declared),
                         ["tubo_end_flush: declared in _lib.py, not in the header"])

    def test_a_changed_code(self):
        self.header.constants["TUBO_E_TIMEOUT"] = -99
        self.assertEqual(check_constants(self.header, self.constants),
                         ["_lib.E_TIMEOUT = -9, but TUBO_E_TIMEOUT = -99 in the header"])
        self.assertEqual(check_exceptions(self.header, errors.error_class, CLASSES), [
            "TUBO_E_TIMEOUT (-99): no exception class in errors.py",
            "TuboTimeoutError documents TUBO_E_TIMEOUT but has code -9"])

    def test_a_new_code(self):
        self.header.constants["TUBO_E_NEW_KIND"] = -99
        self.assertEqual(check_exceptions(self.header, errors.error_class, CLASSES),
                         ["TUBO_E_NEW_KIND (-99): no exception class in errors.py"])


def files(texts):
    """An opener for read_header over ``texts`` (path -> text)."""
    def opener(path):
        if path not in texts:
            raise FileNotFoundError(path)
        return texts[path]
    return opener


class ParserTest(unittest.TestCase):
    """The parser on a made-up pair of headers: an umbrella and a topic header."""

    FILES = {
        "/w/capi/tubo.h": """
            #ifndef TUBO_H_
            #define TUBO_H_
            #include <stdint.h>
            #include "tubo/codes.h"   /* a topic header, relative to this file */
            #ifdef __cplusplus
            extern "C" {
            #endif
            #define TUBO_MAJOR 2
            #define TUBO_NUMBER \\
              (TUBO_MAJOR * 10000 + 3)
            typedef struct tubo_end tubo_end;   // opaque
            typedef struct tubo_bytes { const uint8_t *data; size_t len; } tubo_bytes;
            typedef int (*tubo_fn)(void *ctx, tubo_end **ends, size_t n);
            /** Doc. */
            int tubo_recv(tubo_bytes **out, tubo_end *end,
                          int64_t timeout_ms, tubo_error **err);
            unsigned tubo_version(void);
            const char *tubo_name(int code);
            #ifdef __cplusplus
            }
            #endif
            #endif
            """,
        "/w/capi/tubo/codes.h": """
            typedef enum tubo_code { TUBO_OK = 0, TUBO_EOF, TUBO_E_X = -1, TUBO_E_Y } tubo_code;
            typedef struct tubo_error tubo_error;
            """,
    }

    def test_an_umbrella_and_a_topic_header(self):
        h = read_header("/w/capi/tubo.h", files(self.FILES))
        self.assertEqual(h.files, ["/w/capi/tubo.h", "/w/capi/tubo/codes.h"])
        self.assertEqual({k: v for k, v in h.constants.items() if k != "TUBO_H_"}, {
            "TUBO_OK": 0, "TUBO_EOF": 1, "TUBO_E_X": -1, "TUBO_E_Y": 0, "TUBO_MAJOR": 2,
            "TUBO_NUMBER": 20003})
        self.assertEqual((h.enums, h.opaque, h.fn_types), ({"tubo_code"},
                                                           {"tubo_end", "tubo_error"},
                                                           {"tubo_fn"}))
        self.assertEqual(h.structs, {"tubo_bytes": [("data", ("uint8_t", 1)),
                                                    ("len", ("size_t", 0))]})
        self.assertEqual(h.functions, {
            "tubo_recv": (("int", 0), [("tubo_bytes", 2), ("tubo_end", 1), ("int64_t", 0),
                                       ("tubo_error", 2)]),
            "tubo_version": (("unsigned", 0), []),
            "tubo_name": (("char", 1), [("int", 0)]),
        })
        self.assertEqual([fits(h, t) for t in h.functions["tubo_recv"][1]], [
            {"POINTER(POINTER(Bytes))"}, {"c_void_p"}, {"c_int64"}, {"POINTER(c_void_p)"}])

    def test_a_missing_include_and_an_unknown_declaration_fail(self):
        with self.assertRaisesRegex(AssertionError, "includes tubo/gone.h"):
            read_header("/w/a.h", files({"/w/a.h": '#include "tubo/gone.h"'}))
        with self.assertRaisesRegex(AssertionError, "cannot parse"):
            read_header("/w/a.h", files({"/w/a.h": "int (*tubo_table[2])(void);"}))


if __name__ == "__main__":
    unittest.main()
