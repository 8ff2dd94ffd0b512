"""The real-MTA lab (contrib/lab/lab.py, a script beside labctl, not a package), loaded
by path once per process for every test package that uses it (tests/lab, tests/deploy)."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_lab() -> types.ModuleType:
    """contrib/lab/lab.py as the module ``lab`` (the same object for every caller)."""
    if "lab" in sys.modules:
        return sys.modules["lab"]
    spec = importlib.util.spec_from_file_location("lab", REPO / "contrib" / "lab" / "lab.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["lab"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
