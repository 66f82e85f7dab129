"""tubo_dependencies(): the repositories tubo needs, declared for the workspace that depends on it.

In the WORKSPACE, after the repository `tubo` itself:

    load("@tubo//:deps.bzl", "tubo_dependencies")

    tubo_dependencies()

Every repository below is declared only if the workspace has not declared one
of that name before the call: a workspace that brings its own (abseil built
from source, a newer @platforms, ...) keeps it.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//third_party:bazel_stand_ins.bzl", "debian_platforms", "stand_in")
load("//third_party:system_libraries.bzl", "system_abseil", "system_googletest")

def tubo_dependencies():
    """Declares what tubo's targets need and the workspace has not declared yet.

    - `rules_cc`, `rules_java`, `remote_coverage_tools`: local stand-ins for
      what Debian's Bazel 4.2.3 would otherwise download (third_party/);
    - `platforms`: Debian's /usr/share/bazel/platforms (from bazel-bootstrap),
      with the cpu values wasm32 and wasm64 added if it lacks them;
    - `com_google_absl`, `com_google_googletest`: the system's abseil
      (libabsl-dev) and googletest (libgtest-dev), found with pkg-config, under
      the labels of their own Bazel builds (third_party/system_libraries.bzl).

    It registers no toolchain.
    """

    # Labels written here belong to tubo's repository, whatever the workspace calls it.
    maybe(stand_in, name = "rules_cc", build_file = Label("//third_party/rules_cc:BUILD"))
    maybe(stand_in, name = "rules_java", build_file = Label("//third_party/rules_java:BUILD"))
    maybe(
        stand_in,
        name = "remote_coverage_tools",
        build_file = Label("//third_party/remote_coverage_tools:BUILD"),
    )
    maybe(debian_platforms, name = "platforms")
    maybe(system_abseil, name = "com_google_absl")
    maybe(system_googletest, name = "com_google_googletest")
