"""Every file the plugins read goes through check_callout/kit/files.py: this walks the
plugins' source and fails on any other way to open or read a file (``open(``,
``io.open``, ``os.open``, ``os.fdopen``, ``Path.read_text/read_bytes/open``), outside an
allow-list that says why each exception is one."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("check_callout", "check_nullmailer")

# (module path, function name) -> why it may open a file itself
ALLOWED = {
    ("check_callout/kit/files.py", "_read"): "the mechanism itself",
    ("check_callout/kit/stdout.py", "*"): "opens /dev/null for writing, to park a dead stdout",
}
# Callables whose receiver is one of these names are the mechanism, not a bypass.
MECHANISM = {"files", "host"}
RECEIVER_OPENERS = {"os": {"open", "fdopen"}, "io": {"open", "open_code"}, "pathlib": {"open"}}
PATH_READERS = {"read_text", "read_bytes", "write_text", "write_bytes"}


def _bypasses(tree: ast.AST) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Call):
                func = child.func
                if isinstance(func, ast.Name) and func.id == "open":
                    found.append((child.lineno, name, "open("))
                elif isinstance(func, ast.Attribute):
                    receiver = func.value.id if isinstance(func.value, ast.Name) else ""
                    if func.attr in RECEIVER_OPENERS.get(receiver, ()):
                        found.append((child.lineno, name, f"{receiver}.{func.attr}("))
                    elif func.attr in PATH_READERS and receiver not in MECHANISM:
                        found.append((child.lineno, name, f".{func.attr}("))
                    elif func.attr == "open" and isinstance(func.value, ast.Call):
                        found.append((child.lineno, name, "Path(...).open("))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_no_plugin_module_reads_a_file_around_the_mechanism():
    offences = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for line, function, how in _bypasses(ast.parse(path.read_text(), rel)):
                if (rel, function) in ALLOWED or (rel, "*") in ALLOWED:
                    continue
                offences.append(f"{rel}:{line} in {function}: {how}")
    assert not offences, "read files through check_callout.kit.files:\n" + "\n".join(offences)


def test_the_walk_finds_each_way_around():
    source = """
import io, os, pathlib
def a(p): return open(p).read()
def b(p): return pathlib.Path(p).read_text()
def c(p): return os.open(p, 0)
def d(p): return io.open(p)
def e(p): return pathlib.Path(p).open()
def f(p): return files.read_text(p)
def g(s): return s.open()
"""
    found = {(function, how) for _, function, how in _bypasses(ast.parse(source))}
    assert found == {
        ("a", "open("), ("b", ".read_text("), ("c", "os.open("), ("d", "io.open("), ("e", "Path(...).open("),
    }  # fmt: skip
