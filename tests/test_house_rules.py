"""House rules (STYLE.md) that a grep over the sources can hold."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The layers that call services but never end a transaction themselves.
CALLERS = [
    *sorted((ROOT / "blueprints").rglob("*.py")),
    *sorted((ROOT / "admin_views").rglob("*.py")),
    ROOT / "commands.py",
]
COMMIT = re.compile(r"\.commit\(")


def test_a_service_owns_each_commit():
    """No commit in blueprints/, admin_views/ or commands.py: the service called commits."""
    assert ROOT / "commands.py" in CALLERS and len(CALLERS) > 10
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in CALLERS
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if COMMIT.search(line)
    ]
    assert offenders == []
