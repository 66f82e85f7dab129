"""Local stand-ins for the repositories Debian's Bazel 4.2.3 would otherwise download.

Bazel 4.2.3's built-in WORKSPACE suffix declares `rules_cc`, `rules_java` and
`remote_coverage_tools` as downloads and resolves them even for C++ builds; a
workspace that declares them first gets these instead (see
../shared/BAZEL_OFFLINE.md). A macro cannot know where tubo's files are, so
these are repository rules: they find their files through a label of tubo's.
"""

def _stand_in_impl(rctx):
    directory = rctx.path(rctx.attr.build_file).dirname
    for child in directory.readdir():
        rctx.symlink(child, child.basename)

stand_in = repository_rule(
    implementation = _stand_in_impl,
    attrs = {
        "build_file": attr.label(
            mandatory = True,
            doc = "The top BUILD file of the stand-in; its directory becomes the repository.",
        ),
    },
    doc = "A repository made of a directory of tubo's (third_party/rules_cc, ...).",
)

# Newer releases of @platforms have these; abseil's absl/BUILD.bazel refers to them.
_EXTRA_CPUS = ["wasm32", "wasm64"]

def _debian_platforms_impl(rctx):
    debian = rctx.path(rctx.attr.path)
    if not debian.get_child("cpu").get_child("BUILD").exists:
        fail(("tubo: %s/cpu/BUILD not found: Debian's bazel-bootstrap (package " +
              "bazel-bootstrap-data) installs @platforms there. Elsewhere declare @platforms " +
              "before tubo_dependencies().") % debian)
    for child in debian.readdir():
        if child.basename != "cpu":
            rctx.symlink(child, child.basename)
    for child in debian.get_child("cpu").readdir():
        if child.basename != "BUILD":
            rctx.symlink(child, "cpu/" + child.basename)
    cpu_build = rctx.read(debian.get_child("cpu").get_child("BUILD"))
    for cpu in _EXTRA_CPUS:
        if 'name = "%s"' % cpu not in cpu_build:
            cpu_build += '\n# Added by tubo\'s third_party/bazel_stand_ins.bzl.\n'
            cpu_build += 'constraint_value(\n    name = "%s",\n    constraint_setting = ":cpu",\n)\n' % cpu
    rctx.file("cpu/BUILD", cpu_build)

debian_platforms = repository_rule(
    implementation = _debian_platforms_impl,
    attrs = {
        "path": attr.string(default = "/usr/share/bazel/platforms"),
    },
    doc = "Debian's @platforms, plus the cpu values wasm32 and wasm64 if it lacks them.",
)
