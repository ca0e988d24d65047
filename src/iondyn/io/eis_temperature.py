"""Temperatures stated in file names and free header text (``350C``, ``800 C``, ``623K``).

Used by the impedance readers when a file has no temperature field or column; every value
found this way is reported with its source in ``metadata["temperature_source"]``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["temperature_from_comments", "temperature_from_text"]

_TEMP_TOKEN = re.compile(
    r"(?:^|(?<=[_\-\s,;(]))(-?\d+(?:[.p]\d+)?)\s?(°C|ºC|degC|deg|C|K)(?=$|[_\-\s,;.)])"
)


def temperature_from_text(text: str) -> tuple[float | None, list[str]]:
    """Temperature (K) from ``350C``/``800 C``/``623K``-style tokens in a name or comment.

    Returns ``(temperature_K, tokens)``. With several tokens the last one is taken (the usual
    place for the measurement temperature in file names such as ``..._2072C_350C.txt``); all
    tokens are returned so callers can report them. ``p`` as decimal mark (``25p5C``) is allowed.
    """
    tokens = []
    values = []
    for m in _TEMP_TOKEN.finditer(text):
        number = float(m.group(1).replace("p", "."))
        kelvin = number if m.group(2) == "K" else number + 273.15
        if kelvin > 0:
            tokens.append(m.group(0).strip())
            values.append(kelvin)
    if not values:
        return None, []
    return values[-1], tokens


def temperature_from_comments(comments: list[str], meta: dict[str, Any]) -> float | None:
    """Temperature (K) stated in free header lines as an item of its own (``…, 800 C``).

    Only a comma-separated item that is nothing but a temperature counts (``800 C``, ``25°C``,
    ``298 K``), so ``1.7 sccm CO`` or a date never do. When the lines state one value it is
    returned and ``meta["temperature_source"]`` quotes the line; several different values are
    listed in ``meta["temperature_candidates_K"]`` and ``None`` is returned.
    """
    hits = []
    for text in comments:
        items = [item.strip() for item in text.split(",")]
        for item in items:
            value, tokens = temperature_from_text(item)
            if value is not None and tokens == [item]:  # the item is only the temperature
                hits.append((value, text))
    if len({round(v, 6) for v, _ in hits}) == 1:
        meta["temperature_source"] = f"header comment {hits[0][1]!r}"
        return hits[0][0]
    if hits:
        meta["temperature_candidates_K"] = [v for v, _ in hits]
    return None
