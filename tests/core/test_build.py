"""The build: a clear message when the C dependencies are missing, and an extension that
does not link libcurl and libcrypto (they load in the background: csrc/dyn.h)."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT

import sagemaker_rt_c._core as core


def test_missing_pkg_config_names_the_debian_packages(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pkg-config"
    fake.write_text('#!/bin/sh\necho "Package libcurl was not found" >&2\nexit 1\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    out = subprocess.run(
        [sys.executable, "setup.py", "--name"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "libcurl4-openssl-dev" in out.stderr and "libssl-dev" in out.stderr
    assert "Package libcurl was not found" in out.stderr


def test_extension_does_not_link_libcurl_or_libcrypto():
    readelf = shutil.which("readelf")
    assert readelf, "binutils' readelf is needed"
    dynamic = subprocess.run([readelf, "-d", core.__file__], capture_output=True, text=True).stdout
    needed = [line for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert needed, dynamic
    assert not any("libcurl" in line or "libcrypto" in line for line in needed), needed


def test_libraries_load_in_the_background():
    code = (
        "import time; t = time.perf_counter(); import sagemaker_rt_c._core as c; "
        "t1 = time.perf_counter(); c.wait_loaded(); print(sorted(c.versions()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(core.__file__))),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['libcurl', 'openssl']"


def test_exit_right_after_import_is_clean():
    """The interpreter may exit while libcurl and libcrypto are still loading: it must wait
    for the loader rather than tear the libraries down under it (this crashed once)."""
    package_root = os.path.dirname(os.path.dirname(core.__file__))
    env = dict(os.environ, PYTHONPATH=package_root)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a fast import exits while the loader runs
    subprocess.run([sys.executable, "-m", "compileall", "-q", package_root], env=env, check=True)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env)
        for code in ("import sagemaker_rt_c._core", "import sagemaker_rt_c") * 20
    ]
    codes = [p.wait(timeout=60) for p in procs]
    assert codes == [0] * len(codes)
