"""The analyzer registry and file-kind sniffing.

The built-in kinds are ``peaks`` (:mod:`iondyn.pipeline.analyzers_peaks`), ``impedance``
(:mod:`iondyn.pipeline.analyzers_eis`) and ``tsdc`` (:mod:`iondyn.pipeline.analyzers_tsdc`).
:func:`register` adds or replaces one; :func:`detect_kind` asks every registered analyzer how
confident it is that a file is of its kind and takes the most confident.

The built-in sniffers share one reading of the file through
:func:`iondyn.io.detect.sniff_kind` (cached per path, size and modification time, so asking
three analyzers costs one read).
"""

from __future__ import annotations

import functools
from pathlib import Path

from iondyn.errors import FileFormatError, InputError
from iondyn.pipeline.analyzer import Analyzer

__all__ = [
    "UNKNOWN_KIND",
    "analyzers",
    "detect_kind",
    "get_analyzer",
    "register",
    "sniffed_kind",
    "unregister",
]

#: The kind recorded for files no analyzer recognises (they are stored with status ``error``).
UNKNOWN_KIND = "unknown"

_REGISTRY: dict[str, Analyzer] = {}
_BUILTINS_LOADED = False


def register(analyzer: Analyzer) -> None:
    """Add (or replace) the analyzer of ``analyzer.kind``."""
    if not analyzer.kind or analyzer.kind == UNKNOWN_KIND or not analyzer.kind.isidentifier():
        raise InputError(f"invalid analyzer kind {analyzer.kind!r}")
    _load_builtins()
    _REGISTRY[analyzer.kind] = analyzer


def unregister(kind: str) -> None:
    """Remove the analyzer of ``kind`` (no error when there is none)."""
    _load_builtins()
    _REGISTRY.pop(kind, None)


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    from iondyn.pipeline import analyzers_eis, analyzers_peaks, analyzers_tsdc

    for module in (analyzers_peaks, analyzers_eis, analyzers_tsdc):
        _REGISTRY.setdefault(module.ANALYZER.kind, module.ANALYZER)


def analyzers() -> dict[str, Analyzer]:
    """Every registered analyzer by kind (a copy)."""
    _load_builtins()
    return dict(_REGISTRY)


def get_analyzer(kind: str) -> Analyzer:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise InputError(f"unknown kind {kind!r}; known kinds: {known}") from None


@functools.lru_cache(maxsize=16)
def _sniffed(path: str, size: int, mtime_ns: int) -> str | None:
    from iondyn.io.detect import sniff_kind

    return sniff_kind(Path(path))


def sniffed_kind(path: str | Path) -> str | None:
    """:func:`iondyn.io.detect.sniff_kind` of ``path``, cached for the built-in sniffers."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise FileFormatError(f"cannot read the file ({exc.strerror})", path=str(p)) from None
    return _sniffed(str(p), st.st_size, st.st_mtime_ns)


def detect_kind(path: str | Path, candidates: dict[str, Analyzer] | None = None) -> str:
    """The kind whose analyzer is most confident about ``path`` (ties: registration order).

    Raises :class:`FileFormatError` for an empty file or one that no analyzer recognises.
    """
    p = Path(path)
    candidates = analyzers() if candidates is None else candidates
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"cannot read the file ({exc.strerror})", path=str(p)) from None
    if size == 0:
        raise FileFormatError("empty file", path=str(p))
    best, best_conf = None, 0.0
    for kind, analyzer in candidates.items():
        conf = float(analyzer.sniff(p))
        if conf > best_conf:
            best, best_conf = kind, conf
    if best is None:
        raise FileFormatError(
            "not a data file iondyn recognises (no impedance, TSDC or peak-spectrum table found; "
            "use --kind or a [[rule]] kind to force one)",
            path=str(p),
        )
    return best
