"""Settings of a batch run from a TOML file (``iondyn analyze --config CONFIG.toml``).

.. code-block:: toml

    [defaults]
    kind = "auto"                 # or peaks | impedance | tsdc: skip sniffing
    exclude = ["*.png", "notes/*"]

    [peaks]                       # settings of one kind, for every file of that kind
    shape = "gaussian"
    background = "shirley"

    [[rule]]                      # settings for the files whose path matches
    pattern = "tsdc/*.csv"        # a string or a list of strings
    kind = "tsdc"
    beta_K_per_min = 5.0

    [[rule]]
    pattern = "pellet_*.txt"
    thickness_cm = 0.1
    area_cm2 = 0.785
    temperature_manifest = "manifest.csv"   # relative to this file

A pattern matches the end of the file's absolute path, one ``*`` per path component
(:meth:`pathlib.PurePath.match`): ``"*.csv"`` any CSV, ``"tsdc/*.csv"`` CSVs in any folder
named ``tsdc``. A file's settings are the analyzer's defaults, then its kind's section, then
every matching rule in file order (later rules win). A rule without ``kind`` applies its keys
to whichever kind the file turns out to be (keys of other kinds are ignored for it).

The temperature manifest is a CSV file with a ``file`` column (a file name, or a pattern as
above) and a temperature column whose name carries the unit (``temperature_K``,
``temperature_C``, ``T (K)``, ``T (°C)``); it sets ``temperature_K`` of the matching files.

Every key is checked: unknown keys (with a suggestion), keys in the wrong section, wrong
types, negative lengths or rates raise :class:`iondyn.errors.ConfigError` naming the file and
the key. The units are part of the key names (``thickness_cm``, ``beta_K_per_min``).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from iondyn.errors import ConfigError
from iondyn.pipeline.analyzer import Analyzer

__all__ = ["PipelineConfig", "Rule", "canonical_json", "settings_hash"]

_RULE_KEYS = ("pattern", "kind", "temperature_manifest")
_DEFAULT_KEYS = ("kind", "exclude")


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, no NaN: the same settings always give the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def settings_hash(kind: str, settings: Mapping[str, Any], analysis_version: str) -> str:
    """SHA-256 of the canonical JSON of the kind, its resolved settings, the analyzer's
    version and the iondyn version: a changed setting or analysis re-analyses the file."""
    from iondyn import __version__

    doc = {
        "kind": kind,
        "settings": dict(settings),
        "analysis": analysis_version,
        "iondyn": __version__,
    }
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


@dataclass
class Rule:
    """One ``[[rule]]``: patterns, an optional kind, settings and manifest temperatures."""

    index: int
    patterns: tuple[str, ...]
    kind: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    temperatures: dict[str, float] | None = None
    manifest: str | None = None

    def matches(self, path: PurePosixPath) -> bool:
        return any(path.match(p) for p in self.patterns)

    def temperature_of(self, path: PurePosixPath) -> float | None:
        if not self.temperatures:
            return None
        if path.name in self.temperatures:
            return self.temperatures[path.name]
        for entry, value in self.temperatures.items():
            if path.match(entry):
                return value
        return None


def _suggest(key: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)`` for a key written without its unit (``beta`` →
    ``beta_K_per_min``) or misspelt, else ``""``."""
    stem = key.split("_")[0].lower()
    with_unit = [k for k in known if k.lower().startswith(stem + "_") and len(stem) > 1]
    close = with_unit or difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class PipelineConfig:
    """Validated settings of a run (see the module docstring). ``PipelineConfig()`` is the
    default: sniff every file, the analyzers' default settings."""

    path: str | None = None
    kind: str = "auto"
    exclude: tuple[str, ...] = ()
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_file(cls, path: str | Path, kinds: Mapping[str, Analyzer] | None = None):
        from iondyn.errors import FileFormatError
        from iondyn.io.text import check_input_file

        p = Path(path)
        try:
            check_input_file(p, 16 << 20)  # a regular file of at most 16 MiB (no FIFO, device)
            text = p.read_text(encoding="utf-8")
        except FileFormatError as exc:
            raise ConfigError(f"cannot read the config file ({exc.problem})", path=str(p)) from None
        except OSError as exc:
            raise ConfigError(
                f"cannot read the config file ({exc.strerror})", path=str(p)
            ) from None
        except UnicodeDecodeError:
            raise ConfigError("the config file is not UTF-8 text", path=str(p)) from None
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", path=str(p)) from None
        return cls.from_dict(doc, path=p, kinds=kinds)

    @classmethod
    def from_dict(
        cls,
        doc: Mapping[str, Any],
        path: str | Path | None = None,
        kinds: Mapping[str, Analyzer] | None = None,
    ) -> PipelineConfig:
        """Validate a parsed TOML document (``path`` names it in errors and anchors the
        manifests' relative paths)."""
        if kinds is None:
            from iondyn.pipeline.kinds import analyzers

            kinds = analyzers()
        src = None if path is None else str(path)
        base = Path(".") if path is None else Path(path).resolve().parent

        def err(message: str) -> ConfigError:
            return ConfigError(message, path=src)

        top = ["defaults", "rule", *kinds]
        for key in doc:
            if key not in top:
                raise err(f"unknown section [{key}]{_suggest(key, top)}; known: {', '.join(top)}")
        config = cls(path=src)
        defaults = doc.get("defaults", {})
        if not isinstance(defaults, dict):
            raise err("[defaults] must be a table")
        for key in defaults:
            if key not in _DEFAULT_KEYS:
                hint = _suggest(key, list(_DEFAULT_KEYS))
                raise err(f"unknown key {key!r} in [defaults]{hint}")
        config.kind = _kind(defaults.get("kind", "auto"), kinds, "[defaults]", err, auto=True)
        config.exclude = _patterns(defaults.get("exclude", []), "[defaults] exclude", err)
        for kind in kinds:
            section = doc.get(kind, {})
            if not isinstance(section, dict):
                raise err(f"[{kind}] must be a table")
            config.sections[kind] = {
                key: _setting(key, value, kind, kinds, f"[{kind}]", src, err)
                for key, value in section.items()
            }
        rules = doc.get("rule", [])
        if not isinstance(rules, list):
            raise err("rules are written [[rule]] (an array of tables)")
        for i, rule in enumerate(rules, start=1):
            config.rules.append(_rule(i, rule, kinds, base, src, err))
        return config

    @property
    def own_files(self) -> list[str]:
        """The config file and its manifests (never analysed as data)."""
        files = [self.path] if self.path else []
        return files + [r.manifest for r in self.rules if r.manifest]

    # ------------------------------------------------------------------ resolving
    def matching(self, path: str | Path) -> list[Rule]:
        p = PurePosixPath(Path(path).as_posix())
        return [r for r in self.rules if r.matches(p)]

    def is_excluded(self, path: str | Path) -> bool:
        p = PurePosixPath(Path(path).as_posix())
        return any(p.match(pattern) for pattern in self.exclude)

    def requested_kind(self, path: str | Path) -> str:
        """``"auto"`` (sniff the file) or the kind a rule or ``[defaults]`` asks for."""
        kind = self.kind
        for rule in self.matching(path):
            if rule.kind is not None:
                kind = rule.kind
        return kind

    def settings_for(self, path: str | Path, analyzer: Analyzer) -> dict[str, Any]:
        """Defaults < ``[kind]`` section < matching rules (in order) for this file."""
        kind = analyzer.kind
        out = analyzer.defaults()
        out.update(self.sections.get(kind, {}))
        p = PurePosixPath(Path(path).as_posix())
        for rule in self.matching(path):
            if rule.kind not in (None, kind):
                continue
            out.update({k: v for k, v in rule.settings.items() if k in analyzer.settings})
            t = rule.temperature_of(p)
            if t is not None and "temperature_K" in analyzer.settings:
                out["temperature_K"] = t
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "exclude": list(self.exclude),
            "sections": self.sections,
            "rules": [
                {"patterns": list(r.patterns), "kind": r.kind, "settings": r.settings}
                for r in self.rules
            ],
        }


def _kind(value: Any, kinds: Mapping[str, Analyzer], where: str, err, auto: bool) -> str:
    allowed = (["auto"] if auto else []) + list(kinds)
    if not isinstance(value, str) or value not in allowed:
        raise err(f"{where}: kind must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _patterns(value: Any, where: str, err) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise err(f"{where} must be a pattern string or a list of them")
    return tuple(items)


def _setting(key, value, kind, kinds, where, src, err) -> Any:
    """One key of section ``kind`` (validated by its analyzer's :class:`Setting`)."""
    spec = kinds[kind].settings
    if key not in spec:
        known = sorted(spec)
        hint = _suggest(key, known)  # this section's own key first (beta → beta_K_per_min)
        owners = [k for k, a in kinds.items() if key in a.settings]
        if owners and not hint:
            raise err(f"{where}: key {key!r} belongs in [{owners[0]}], not [{kind}]")
        raise err(f"unknown key {key!r} in {where}{hint}; known: {', '.join(known)}")
    return spec[key].validate(key, value, where, src)


def _rule(i: int, rule: Any, kinds, base: Path, src, err) -> Rule:
    where = f"[[rule]] {i}"
    if not isinstance(rule, dict):
        raise err(f"{where} must be a table")
    if "pattern" not in rule:
        raise err(f"{where} has no pattern")
    out = Rule(i, _patterns(rule["pattern"], f"{where} pattern", err))
    if "kind" in rule:
        out.kind = _kind(rule["kind"], kinds, where, err, auto=False)
    all_keys = sorted({k for a in kinds.values() for k in a.settings} | set(_RULE_KEYS))
    for key, value in rule.items():
        if key in _RULE_KEYS:
            continue
        owners = [k for k, a in kinds.items() if key in a.settings]
        if not owners:
            raise err(f"unknown key {key!r} in {where}{_suggest(key, all_keys)}")
        if out.kind is not None and out.kind not in owners:
            raise err(
                f"{where}: key {key!r} is a {owners[0]} setting, but the rule's kind is {out.kind}"
            )
        targets = [out.kind] if out.kind is not None else owners
        for kind in targets:
            out.settings[key] = _setting(key, value, kind, kinds, where, src, err)
    if "temperature_manifest" in rule:
        name = rule["temperature_manifest"]
        if not isinstance(name, str) or not name:
            raise err(f"{where}: temperature_manifest must be a file name")
        out.manifest = str((base / name).resolve())
        out.temperatures = read_manifest(base / name, f"{where} temperature_manifest", src)
    return out


def read_manifest(path: Path, where: str, config_path: str | None) -> dict[str, float]:
    """``{file name or pattern: temperature in K}`` from a manifest CSV (module docstring)."""
    from iondyn.constants import ZERO_CELSIUS_K
    from iondyn.errors import FileFormatError
    from iondyn.io.text import check_input_file

    try:
        check_input_file(path, 16 << 20)
        text = path.read_text(encoding="utf-8-sig")
    except (FileFormatError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {path} ({exc})", path=config_path) from None
    except OSError as exc:
        raise ConfigError(
            f"{where}: cannot read {path} ({exc.strerror})", path=config_path
        ) from None
    rows = list(csv.reader(line for line in text.splitlines() if line.strip()))
    if len(rows) < 2:
        raise ConfigError("the manifest needs a header row and at least one file", str(path))
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    file_col = next((i for i, h in enumerate(lower) if h in ("file", "path", "name")), None)
    if file_col is None:
        raise ConfigError("the manifest has no 'file' column", path=str(path), line=1)
    temp_col, offset = None, 0.0
    for i, h in enumerate(lower):
        compact = h.replace(" ", "").replace("°", "").replace("[", "(").replace("]", ")")
        if compact in ("temperature_k", "t_k", "t(k)", "temperature(k)"):
            temp_col, offset = i, 0.0
        elif compact in ("temperature_c", "t_c", "t(c)", "temperature(c)"):
            temp_col, offset = i, ZERO_CELSIUS_K
    if temp_col is None:
        raise ConfigError(
            "the manifest needs a temperature column with its unit in the name "
            "(temperature_K or temperature_C)",
            path=str(path),
            line=1,
        )
    out: dict[str, float] = {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) <= max(file_col, temp_col):
            raise ConfigError("missing columns", path=str(path), line=n)
        try:
            value = float(row[temp_col].strip().replace(",", ".")) + offset
        except ValueError:
            raise ConfigError(f"not a temperature: {row[temp_col]!r}", str(path), n) from None
        if not value > 0:
            raise ConfigError(f"temperature {value:g} K is not above 0 K", str(path), n)
        out[row[file_col].strip()] = value
    return out
