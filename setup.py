"""Build the C extension sagemaker_rt_c._core against libcurl and OpenSSL (via pkg-config).

Environment knobs:
  SMRT_WERROR=1    compile with -Werror (CI does)
  SMRT_SANITIZE=1  build with AddressSanitizer and UndefinedBehaviorSanitizer
  SMRT_DEBUG=1     -O0 -g
  SMRT_DIRECT_LINK=1  link libcurl and libcrypto normally instead of loading them in the
                      background (see csrc/dyn.h)
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup

APT_HINT = (
    "sagemaker_rt_c needs the libcurl and OpenSSL development files and pkg-config.\n"
    "On Debian/Ubuntu: apt-get install -y pkg-config libcurl4-openssl-dev libssl-dev\n"
    "(or run `make test`, which installs them)."
)


def pkg_config(*args):
    if shutil.which("pkg-config") is None:
        sys.exit("error: pkg-config was not found.\n" + APT_HINT)
    try:
        out = subprocess.run(
            ["pkg-config", *args, "libcurl", "openssl"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except subprocess.CalledProcessError as e:
        sys.exit(f"error: pkg-config could not find libcurl/openssl: {e.stderr.strip()}\n" + APT_HINT)
    return out.split()


def soname(lib_flag, libs_dirs):
    """The SONAME the loader thread dlopens (e.g. libcurl.so.4), from the linker's view."""
    import ctypes.util

    name = ctypes.util.find_library(lib_flag)
    if name is None:
        sys.exit(f"error: lib{lib_flag} was not found.\n" + APT_HINT)
    return name


def extension():
    cflags = pkg_config("--cflags")
    libs = pkg_config("--libs")
    include_dirs = [f[2:] for f in cflags if f.startswith("-I")]
    library_dirs = [f[2:] for f in libs if f.startswith("-L")]
    extra_compile = ["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    extra_compile += [f for f in cflags if not f.startswith("-I")]
    extra_link = []
    libraries = ["m"]
    if os.environ.get("SMRT_DIRECT_LINK") == "1":
        # Link libcurl and libcrypto the ordinary way (no background loading).
        libraries += [f[2:] for f in libs if f.startswith("-l")]
        extra_compile.append("-DSMRT_DIRECT_LINK")
    else:
        # libcurl and libcrypto are dlopened by a background thread (csrc/dyn.h).
        libraries.append("dl")
        extra_compile += [
            f'-DSMRT_LIBCURL_SONAME="{soname("curl", library_dirs)}"',
            f'-DSMRT_LIBCRYPTO_SONAME="{soname("crypto", library_dirs)}"',
            f'-DSMRT_LIBSSL_SONAME="{soname("ssl", library_dirs)}"',
        ]
    if os.environ.get("SMRT_WERROR") == "1":
        extra_compile.append("-Werror")
    if os.environ.get("SMRT_DEBUG") == "1":
        extra_compile += ["-O0", "-g"]
    else:
        extra_compile += ["-O2"]
    if os.environ.get("SMRT_SANITIZE") == "1":
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
        extra_compile += san + ["-g", "-O1"]
        extra_link += san
    return Extension(
        "sagemaker_rt_c._core",
        sources=sorted(glob.glob("csrc/*.c")),
        depends=sorted(glob.glob("csrc/*.h")),
        include_dirs=include_dirs,
        library_dirs=library_dirs,
        libraries=libraries,
        extra_compile_args=extra_compile,
        extra_link_args=extra_link,
    )


setup(ext_modules=[extension()])
