"""Example data bundled with iondyn (see ``data/NOTICE.md`` for origins and licences)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path", "list_examples"]


def _root() -> Path:
    return Path(str(resources.files("iondyn.examples") / "data"))


def example_path(name: str) -> Path:
    """Path of a bundled example file, e.g. ``example_path("xps/GFET0126_25V_C1s.txt")``."""
    p = _root() / name
    if not p.is_file():
        from iondyn.errors import InputError

        raise InputError(f"no bundled example {name!r}; available: {', '.join(list_examples())}")
    return p


def list_examples() -> list[str]:
    root = _root()
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "NOTICE.md"
    )
