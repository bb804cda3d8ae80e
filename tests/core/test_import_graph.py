"""The package's import graph has no cycle, and each module imports on its own.

The graph counts every import, at module level or inside a function: an import moved into a
function still needs its target when the function runs, so a cycle through it is a cycle.
Imports inside functions are there only to load on first use what ``import sagemaker_rt_c``
need not load, never to break a cycle; this test is what keeps that true.

An edge ``a -> b`` means that importing ``a`` (or running it) imports ``b``: the module named,
and the packages above it whose ``__init__`` runs first (except ``a``'s own: they are already
running when ``a`` is imported). ``from pkg import name`` is an edge to ``pkg.name`` when that
is a module, else to ``pkg`` (a name its ``__init__`` defines).
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sagemaker_rt_c

PACKAGE_DIR = Path(sagemaker_rt_c.__file__).parent
PACKAGE = "sagemaker_rt_c"


def package_modules():
    """{module name: (source path or None for an extension module, is a package)}."""
    modules = {}
    for path in PACKAGE_DIR.rglob("*"):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        rel = path.relative_to(PACKAGE_DIR.parent)
        if path.suffix == ".py":
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules[".".join(parts)] = (path, is_package)
        elif path.suffix == ".so":
            parts = list(rel.parts[:-1]) + [path.name.split(".")[0]]
            modules[".".join(parts)] = (None, False)
    return modules


def ancestors(name):
    """The packages above a module: a.b.c -> [a, a.b]."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_edges(modules):
    """{module: {imported module: [line numbers]}} within the package."""
    edges = {}
    for name, (path, is_package) in modules.items():
        if path is None:
            continue
        tree = ast.parse(path.read_text(), str(path))
        here = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == PACKAGE:
                        targets.append(alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                elif node.module and node.module.split(".")[0] == PACKAGE:
                    source = node.module
                else:
                    continue
                names_from_source = False
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in modules:
                        targets.append(sub)
                    else:
                        names_from_source = True
                if names_from_source:
                    targets.append(source)
                elif source not in ancestors(name) and source != name:
                    targets.append(source)  # its __init__ runs before its submodules load
            for target in targets:
                assert target in modules, f"{name}:{node.lineno} imports unknown {target}"
                for module in ancestors(target) + [target]:
                    implicit = module != target
                    if module == name or (implicit and module in ancestors(name)):
                        continue
                    edges.setdefault(name, {}).setdefault(module, []).append(node.lineno)
    return edges


def find_cycle(edges):
    """A cycle as [m0, m1, ..., m0], or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "active"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "active":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def describe(cycle, edges, modules):
    lines = []
    for a, b in zip(cycle, cycle[1:], strict=False):
        path = modules[a][0].relative_to(PACKAGE_DIR.parent)
        where = ", ".join(f"{path}:{n}" for n in sorted(set(edges[a][b])))
        lines.append(f"  {a} -> {b}  ({where})")
    return "import cycle:\n" + "\n".join(lines)


def test_the_import_graph_has_no_cycle():
    modules = package_modules()
    edges = import_edges(modules)
    cycle = find_cycle(edges)
    assert cycle is None, describe(cycle, edges, modules)


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b": [1]}, "b": {"c": [2]}, "c": {"a": [3]}, "d": {"a": [4]}}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": [1]}, "b": {}, "c": {"b": [2]}}) is None


def test_the_graph_sees_imports_inside_functions():
    # The lazy ones count: the root package reaches _interop only from inside a function.
    edges = import_edges(package_modules())
    assert "sagemaker_rt_c._interop" in edges[PACKAGE]
    assert "sagemaker_rt_c.credentials._providers" in edges["sagemaker_rt_c.credentials"]


@pytest.mark.parametrize("module", sorted(package_modules()))
def test_each_module_imports_alone(module):
    """Each module imported first, in a fresh interpreter (and then the package): an import
    order that only works when something else was imported before fails here."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_DIR.parent))
    code = f"import importlib; importlib.import_module({module!r}); import {PACKAGE}"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


# --- what the package imports ------------------------------------------------------------------

NOT_WITH_THE_PACKAGE = ("re", "urllib.parse", "ipaddress", "enum", "functools", "operator")


def test_import_and_a_first_client_load_none_of_the_costly_standard_modules(tmp_path):
    """None of these is imported by ``import sagemaker_rt_c`` and a first client (region,
    key pair, no proxy): together they cost more than the package. Run with -S: the .venv's
    editable install imports several of them at start-up, which would hide an import."""
    code = (
        "import sys; import sagemaker_rt_c; "
        "sagemaker_rt_c.client('sagemaker-runtime', region_name='us-east-1', "
        "aws_access_key_id='AKIDEXAMPLE', aws_secret_access_key='x' * 40); "
        f"print([m for m in {NOT_WITH_THE_PACKAGE!r} if m in sys.modules])"
    )
    # This process's environment (LD_PRELOAD under ASan ...) without AWS settings or proxies.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and not k.lower().endswith("_proxy")
    }
    env.update(
        HOME=str(tmp_path),
        PYTHONPATH=str(PACKAGE_DIR.parent),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
