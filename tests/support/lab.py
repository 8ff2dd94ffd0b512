"""The real-MTA lab (the package contrib/lab/lab/, beside labctl, not installed), loaded
by path once per process for every test package that uses it (tests/lab, tests/deploy)."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAB_PACKAGE = REPO / "contrib" / "lab" / "lab"


def load_lab() -> types.ModuleType:
    """The package contrib/lab/lab as ``lab`` (the same object for every caller)."""
    if "lab" in sys.modules:
        return sys.modules["lab"]
    spec = importlib.util.spec_from_file_location(
        "lab", LAB_PACKAGE / "__init__.py", submodule_search_locations=[str(LAB_PACKAGE)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["lab"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def read_replies(path: Path) -> dict:
    """A stored table of live replies (tests/data/receivers/): by scenario, then receiver;
    an empty table before the first recording."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {"scenarios": {}}


def write_replies(path: Path, data: dict) -> None:
    """Store a table of live replies as :func:`read_replies` reads it (one JSON file, kept
    readable in review: indented, non-ASCII as written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
