"""Builds the tubo wheel: the ctypes package with libtubo.so.1 inside it.

    python3 -m venv .venv && .venv/bin/pip install ./bindings/python

pip runs this through setuptools (pyproject.toml). Besides the Python files,
the build compiles libtubo.so.1 from the repository's C++ sources (two levels
up: pip 21.3 and later build a local directory in place) with the system's C++
compiler, the way Bazel's //capi:libtubo.so does, and puts it in the package
next to the abseil shared libraries it links, so that an installed tubo needs
neither Bazel nor libabsl on the machine. libstdc++ and glibc are the
platform's and are not carried.

- Compiler: $CXX (default ``c++``); $CXXFLAGS and $LDFLAGS are appended. The
  compiler directly, not Bazel: a pip user has a C++ compiler, seldom Bazel
  and its offline set-up, and a few dozen files on all cores need no build system.
- Abseil: found with pkg-config (``libabsl-dev``; $PKG_CONFIG_PATH for another
  installation). Its shared libraries, not the archives: Debian's static
  archives are not position-independent, so a shared object cannot take them.
- Tag: ``py3-none-<platform>``, e.g. ``py3-none-linux_x86_64``. ctypes makes
  the wheel independent of the Python version, but the library is built for
  this platform. No manylinux claim: nothing here checks that policy.
"""
import concurrent.futures
import logging
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from setuptools import Command, Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build import build
from setuptools.errors import CompileError, ExecError, FileError, LinkError

SONAME = "libtubo.so.1"
HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
# What src/ and capi/src/ include from abseil (the deps of //:tubo).
ABSL_MODULES = [
    "absl_flat_hash_map",
    "absl_flat_hash_set",
    "absl_status",
    "absl_statusor",
    "absl_strings",
    "absl_synchronization",
    "absl_time",
]
# The libraries carried in the wheel: abseil's. Everything else libtubo.so.1
# needs (libstdc++, libgcc_s, libm, libc) belongs to the platform.
BUNDLED = re.compile(r"libabsl_[A-Za-z0-9_]+\.so[.0-9]*")
# Compiled as Bazel compiles //capi:tubo_capi_objects (.bazelrc, capi/BUILD.bazel),
# optimised, without the debug info that only the ABI check (abidw) reads, with
# assertions kept (no NDEBUG), as in Bazel's default build.
CXX_FLAGS = [
    "-std=c++17",
    "-fPIC",
    "-O2",
    "-fvisibility=hidden",
    "-fvisibility-inlines-hidden",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
]
# $ORIGIN: the carried abseil libraries are found next to libtubo.so.1. As
# DT_RPATH rather than the newer DT_RUNPATH (--disable-new-dtags), because
# only DT_RPATH also serves the libraries' dependencies on each other: Debian's
# gcc links --as-needed, so libtubo.so.1 itself needs 8 abseil libraries, and
# those need 21 more, which a DT_RUNPATH would leave to the system's.
LD_FLAGS = [
    "-shared",
    "-Wl,-soname," + SONAME,
    "-Wl,--version-script=" + str(REPOSITORY / "capi" / "tubo.map"),
    "-Wl,--no-undefined",
    "-Wl,-z,relro,-z,now",
    "-Wl,--disable-new-dtags",
    "-Wl,-rpath,$ORIGIN",
]


def _tool(variable, default, install_hint):
    """The command in $variable (split like a shell would), else default."""
    command = shlex.split(os.environ.get(variable, "")) or [default]
    if shutil.which(command[0]) is None:
        raise ExecError("tubo: %s not found (%s=%r); %s" % (
            command[0], variable, os.environ.get(variable, ""), install_hint))
    return command


def _run(command, error, hint=""):
    """Runs command and returns its output; on failure raises error with the
    command, its output and the hint."""
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if done.returncode != 0:
        raise error("tubo: %s failed (exit %d)%s:\n%s" % (
            shlex.join(command), done.returncode, hint and "; " + hint, done.stdout))
    return done.stdout


def _sources():
    """The C++ sources of libtubo.so.1, or a FileError if they are not there."""
    needed = ["src", "capi/src", "include/tubo", "capi/tubo.map"]
    missing = [p for p in needed if not (REPOSITORY / p).exists()]
    if missing:
        raise FileError(
            "tubo: the repository's C++ sources are not in %s (no %s). The package is built "
            "in place from a clone of the repository: `pip install ./bindings/python` with pip "
            "21.3 or later, not from a copy of bindings/python or an sdist." % (
                REPOSITORY, ", ".join(missing)))
    return sorted(REPOSITORY.glob("src/**/*.cc")) + sorted(REPOSITORY.glob("capi/src/*.cc"))


class build_libtubo(Command):
    """Compiles libtubo.so.1 and puts it, with the abseil libraries it links,
    into the package (under build_lib, or the source package when editable)."""

    description = "compile libtubo.so.1 from the repository's C++ sources"
    user_options = []

    def initialize_options(self):
        self.build_lib = None
        self.build_temp = None
        self.editable_mode = False
        self._outputs = []

    def finalize_options(self):
        self.set_undefined_options("build", ("build_lib", "build_lib"),
                                   ("build_temp", "build_temp"))

    def run(self):
        sources = _sources()
        cxx = _tool("CXX", "c++", "run tools/setup (it installs g++) or set CXX")
        pkg_config = _tool("PKG_CONFIG", "pkg-config", "run tools/setup")
        absl_hint = "abseil comes from libabsl-dev (tools/setup) or $PKG_CONFIG_PATH"
        absl_cflags = shlex.split(
            _run(pkg_config + ["--cflags"] + ABSL_MODULES, FileError, absl_hint))
        absl_libs = shlex.split(_run(pkg_config + ["--libs"] + ABSL_MODULES, FileError, absl_hint))
        objects_dir = Path(self.build_temp, "libtubo")
        includes = ["-I" + str(REPOSITORY / "include"), "-I" + str(REPOSITORY / "capi")]
        user_cxxflags = shlex.split(os.environ.get("CXXFLAGS", ""))

        def compile_one(source):
            obj = objects_dir / source.relative_to(REPOSITORY).with_suffix(".o")
            obj.parent.mkdir(parents=True, exist_ok=True)
            command = (cxx + CXX_FLAGS + includes + absl_cflags + user_cxxflags +
                       ["-c", str(source), "-o", str(obj)])
            self.announce(shlex.join(command), level=logging.INFO)
            output = _run(command, CompileError)
            if output:
                self.announce(output, level=logging.WARNING)
            return str(obj)

        jobs = len(os.sched_getaffinity(0))
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            objects = list(pool.map(compile_one, sources))

        library = objects_dir / SONAME
        command = (cxx + LD_FLAGS + ["-o", str(library)] + objects + absl_libs + ["-lpthread"] +
                   shlex.split(os.environ.get("LDFLAGS", "")))
        self.announce(shlex.join(command), level=logging.INFO)
        _run(command, LinkError)

        package = HERE / "tubo" if self.editable_mode else Path(self.build_lib, "tubo")
        package.mkdir(parents=True, exist_ok=True)
        self._outputs = [self._copy(library, package / SONAME)]
        for name, path in self._bundled_dependencies(library):
            self._outputs.append(self._copy(path, package / name))

    def _bundled_dependencies(self, library):
        """(name, path) of each library to carry, as the loader resolves them
        on this machine (ldd: the whole closure, under the names it needs)."""
        found = []
        for line in _run(["ldd", str(library)], LinkError).splitlines():
            parts = line.split()
            if not parts or not BUNDLED.fullmatch(parts[0]):
                continue
            if len(parts) < 3 or parts[1] != "=>" or not parts[2].startswith("/"):
                raise LinkError("tubo: ldd cannot resolve %s for %s: %s" % (
                    parts[0], library, line.strip()))
            found.append((parts[0], parts[2]))
        if not found:
            raise LinkError("tubo: ldd lists no abseil library for %s; the link did not "
                            "use the shared ones" % library)
        return found

    def _copy(self, source, target):
        self.announce("copying %s -> %s" % (source, target), level=logging.INFO)
        shutil.copyfile(source, target)  # the file a symlink names, under the needed name
        os.chmod(target, 0o755)
        return str(target)

    # The build sub-command protocol of setuptools (editable installs, sdist).
    def get_outputs(self):
        return self._outputs

    def get_output_mapping(self):
        return {}

    def get_source_files(self):
        return []


class build_with_libtubo(build):
    sub_commands = build.sub_commands + [("build_libtubo", None)]


class DistributionWithLibrary(Distribution):
    """Says the package holds binary content, so that it installs into
    platlib and its wheel is not marked pure."""

    def has_ext_modules(self):
        return True


class bdist_wheel_for_platform(bdist_wheel):
    """Tags the wheel ``py3-none-<platform>``: binary content for this
    platform, loaded through ctypes by any Python 3."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=DistributionWithLibrary, cmdclass={
    "build": build_with_libtubo,
    "build_libtubo": build_libtubo,
    "bdist_wheel": bdist_wheel_for_platform,
})
