"""The analyzer registry and file-kind sniffing.

The built-in kinds are ``peaks`` (:mod:`iondyn.pipeline.analyzers_peaks`), ``impedance``
(:mod:`iondyn.pipeline.analyzers_eis`) and ``tsdc`` (:mod:`iondyn.pipeline.analyzers_tsdc`).
:func:`register` adds or replaces one; :func:`detect_kind` asks every registered analyzer how
confident it is that a file is of its kind and takes the most confident.

The built-in sniffers share one reading of the file through
:func:`iondyn.io.sniff.kind_evidence` (cached per path, size and modification time, so asking
three analyzers costs one read); each returns the score of its own kind. Two kinds that score
within :data:`iondyn.io.sniff.AMBIGUITY_MARGIN` of each other make the file an error that
names both and how to settle it (``--kind`` or a config rule), and a file recognised as a kind
that no analyzer handles (a spectrum image) is an error of that kind.
"""

from __future__ import annotations

import functools
from pathlib import Path

from iondyn.errors import FileFormatError, InputError
from iondyn.pipeline.analyzer import Analyzer

__all__ = [
    "UNKNOWN_KIND",
    "KindError",
    "analyzers",
    "detect_kind",
    "get_analyzer",
    "register",
    "sniffed_kind",
    "sniffed_score",
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
    from iondyn.pipeline import (
        analyzers_eis,
        analyzers_map,
        analyzers_md,
        analyzers_peaks,
        analyzers_tsdc,
    )

    for module in (analyzers_peaks, analyzers_eis, analyzers_tsdc, analyzers_md, analyzers_map):
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
def _evidence(path: str, size: int, mtime_ns: int) -> tuple:
    from iondyn.io.sniff import kind_evidence

    return tuple(kind_evidence(Path(path)))


def sniffed_evidence(path: str | Path) -> tuple:
    """:func:`iondyn.io.sniff.kind_evidence` of ``path``, cached for the built-in sniffers."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise FileFormatError(f"cannot read the file ({exc.strerror})", path=str(p)) from None
    return _evidence(str(p), st.st_size, st.st_mtime_ns)


def sniffed_kind(path: str | Path) -> str | None:
    """The strongest kind of :func:`sniffed_evidence` (``None``: nothing recognised)."""
    evidence = sniffed_evidence(path)
    return evidence[0].kind if evidence else None


def sniffed_score(path: str | Path, kind: str) -> float:
    """The evidence score of ``kind`` for ``path`` (0 when there is none)."""
    return next((e.score for e in sniffed_evidence(path) if e.kind == kind), 0.0)


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
    from iondyn.io.sniff import AMBIGUITY_MARGIN

    scores = sorted(
        ((float(a.sniff(p)), kind) for kind, a in candidates.items()),
        key=lambda s: -s[0],
    )
    scores = [s for s in scores if s[0] > 0]
    if not scores:
        evidence = sniffed_evidence(p)
        if evidence:  # recognised, but as a kind no registered analyzer handles
            e = evidence[0]
            raise KindError(
                f"recognised as {e.kind} ({e.reason}), which 'iondyn analyze' has no analysis "
                f"for (known kinds: {', '.join(sorted(candidates))})",
                path=str(p),
                kind=e.kind,
            )
        raise FileFormatError(
            "not a data file iondyn recognises (no impedance, TSDC or peak-spectrum table found; "
            "use --kind or a [[rule]] kind to force one)",
            path=str(p),
        )
    if len(scores) > 1 and scores[0][0] - scores[1][0] < AMBIGUITY_MARGIN:
        (s1, k1), (s2, k2) = scores[:2]
        why = {e.kind: e.reason for e in sniffed_evidence(p)}
        raise KindError(
            f"could be {k1} ({why.get(k1, f'score {s1:.2f}')}) or {k2} "
            f"({why.get(k2, f'score {s2:.2f}')}); settle it with --kind {k1}|{k2} or a config "
            f'rule [[rule]] pattern = "{p.name}" kind = "{k1}"',
            path=str(p),
        )
    return scores[0][1]


class KindError(FileFormatError):
    """A file whose kind cannot be analysed: ambiguous, or a kind without an analyzer
    (``kind`` names it then; the store records the file under that kind)."""

    def __init__(self, message: str, path: str | None = None, kind: str | None = None):
        super().__init__(message, path=path)
        self.kind = kind
