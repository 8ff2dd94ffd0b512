"""``python -m lab``: the lab's command line (what ``labctl`` runs)."""

import sys

from .base import LabError
from .cli import main

try:
    sys.exit(main())
except LabError as exc:
    print(f"labctl: {exc}", file=sys.stderr)
    sys.exit(1)
