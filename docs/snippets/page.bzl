"""doc_page_test: the test of one page of the API site (docs/*.md)."""

# What a C block is compiled as: C99, pedantic, no warnings, as examples/c.
_C_COPTS = [
    "-std=c99",
    "-pedantic",
    "-Werror",
    "-Icapi",
]

# Go programs and the Python binding cannot host a sanitizer runtime: under
# the asan and tsan configs (.bazelrc), a page with Go or Python blocks is
# skipped (its C++ and C neighbours still run, sanitized).
_NOT_UNDER_SANITIZERS = select({
    "//capi:sanitized": ["//docs/snippets:incompatible"],
    "//conditions:default": [],
})

def doc_page_test(name, page, files = [], data = []):
    """Extracts, builds and runs the code blocks of `page` (rules: blocks.py).

    Args:
      name: the test's name.
      page: the Markdown page.
      files: the file names of the page's source blocks (```cpp hello.cc ->
        "hello.cc"); the build fails, saying which, if they differ from the
        page's. C++ blocks are built against //:tubo, C blocks against
        libtubo.so.1 and the C headers, Go blocks against the Go binding;
        Python blocks run with //bindings/python:tubo.
      data: repository files that the page's commands name (tools/install).
        A page with Go or Python blocks is skipped under a sanitizer config.
    """
    sources = {}
    if files:
        sources = {f: "%s_files/%s" % (name, f) for f in files}
        native.genrule(
            name = name + "_extract",
            srcs = [page],
            outs = sources.values(),
            cmd = "$(location //docs/snippets:extract) $(location %s) $(RULEDIR)/%s_files %s" % (
                page,
                name,
                " ".join(files),
            ),
            tools = ["//docs/snippets:extract"],
        )

    programs = {}
    go_files = []
    for file, path in sources.items():
        stem, _, extension = file.rpartition(".")
        target = "%s_programs/%s" % (name, stem)
        if extension == "cc":
            native.cc_binary(
                name = target,
                srcs = [path],
                copts = ["-Werror"],
                deps = ["//:tubo"],
            )
            programs[stem] = ":" + target
        elif extension == "c":
            native.cc_binary(
                name = target,
                srcs = [
                    path,
                    "//capi:headers",
                    "//capi:libtubo.so.1",
                ],
                copts = _C_COPTS,
            )
            programs[stem] = ":" + target
        elif extension == "go":
            go_files.append(file)
        elif extension != "py":
            fail("%s: %s is not a C++, C, Go or Python file" % (page, file))

    if go_files:
        outs = ["%s_programs/%s" % (name, f[:-len(".go")]) for f in go_files]
        native.genrule(
            name = name + "_go",
            srcs = [sources[f] for f in go_files] + [
                "//bindings/go:go.mod",
                "//bindings/go:module",
                "//capi:headers",
                "//capi:libtubo.so.1",
                "//capi:tubo.h",
            ],
            outs = outs,
            # The programs are in bazel-bin/<package>/<name>_programs/; libtubo.so.1
            # in bazel-bin/capi/.
            cmd = " ".join([
                "$(location //docs/snippets:go_build.sh) $(RULEDIR)/%s_programs" % name,
                "../" * (native.package_name().count("/") + 2) + "capi",
                "$(location //bindings/go:go_env.sh)",
                "$(location //tools:install)",
                "$(location //capi:libtubo.so.1)",
                "$(location //capi:tubo.h)",
                "$(location //bindings/go:go.mod)",
            ] + ["$(location %s)" % sources[f] for f in go_files]),
            tools = [
                "//bindings/go:go_env.sh",
                "//docs/snippets:go_build.sh",
                "//tools:install",
            ],
            target_compatible_with = _NOT_UNDER_SANITIZERS,
        )
        for f, out in zip(go_files, outs):
            programs[f[:-len(".go")]] = ":" + out

    native.py_test(
        name = name,
        size = "small",
        srcs = ["//docs/snippets:page_test.py"],
        main = "//docs/snippets:page_test.py",
        args = ["$(rootpath %s)" % page] +
               ["--file=%s=$(rootpath %s)" % (f, p) for f, p in sources.items()] +
               ["--program=%s=$(rootpath %s)" % (s, t) for s, t in programs.items()],
        data = [page] + list(sources.values()) + list(programs.values()) + data,
        python_version = "PY3",
        target_compatible_with = _NOT_UNDER_SANITIZERS if [
            f
            for f in files
            if f.endswith(".go") or f.endswith(".py")
        ] else [],
        deps = [
            "//bindings/python:tubo",
            "//docs/snippets:blocks",
        ],
    )
