"""The circuit language: tokenizer, recursive-descent parser, AST and vectorised evaluation.

Grammar (whitespace is ignored; ``-`` joins in series, ``p(…)`` in parallel; nesting allowed)::

    circuit  := series END
    series   := term ('-' term)*
    term     := element | 'p' '(' series (',' series)+ ')'
    element  := TYPE INDEX          e.g. R0, CPE1, Wo2, ZARC1 (TYPE case-insensitive)

Example: ``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3``. Strings are parsed, never evaluated; every error is
a one-line :class:`iondyn.errors.CircuitParseError` naming the 0-based position. Parallel blocks
may nest at most :data:`MAX_NESTING` (32) deep; a string may be at most :data:`MAX_LENGTH`
(4096) characters long.

Evaluation: :meth:`Circuit.impedance` takes parameters of shape (n_sets, n_params) (or a dict, or
one set) and returns Z of shape (n_sets, n_omega) in one NumPy pass per element — series
impedances add, parallel admittances add.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from iondyn.eis.elements import ELEMENT_TYPES, ElementType, Omega, element_type
from iondyn.errors import CircuitParseError, InputError

__all__ = ["Circuit", "Element", "Parallel", "Series", "parse_circuit", "tokenize"]

#: Limits: real circuits nest 2–3 levels (parser and evaluator recurse: far below Python's
#: recursion limit) and a chain of 30 arcs is about 330 characters.
MAX_NESTING = 32
MAX_LENGTH = 4096

_TOKEN_RE = re.compile(r"\s*(?:(?P<name>[A-Za-z]+[0-9]*)|(?P<punct>[-(),]))")
_NAME_RE = re.compile(r"([A-Za-z]+)([0-9]*)$")
_KNOWN = ", ".join(ELEMENT_TYPES)


@dataclass(frozen=True)
class Token:
    kind: str  # "name", "-", "(", ")", ",", "end"
    text: str
    position: int


def _parse_error(message: str, text: str, position: int) -> CircuitParseError:
    """A CircuitParseError quoting the string, or ±40 characters around ``position`` of a
    string longer than 120 characters (so that the message stays a readable line)."""
    shown = text
    if len(text) > 120:
        a, b = max(position - 40, 0), min(position + 40, len(text))
        shown = ("…" if a else "") + text[a:b] + ("…" if b < len(text) else "")
    return CircuitParseError(message, shown, position)


def tokenize(text: str) -> list[Token]:
    """Split a circuit string into tokens; reject any other character, unbalanced brackets,
    nesting deeper than :data:`MAX_NESTING` and strings longer than :data:`MAX_LENGTH`."""
    if len(text) > MAX_LENGTH:
        raise _parse_error(
            f"circuit string of {len(text)} characters is longer than the limit of {MAX_LENGTH}",
            text,
            MAX_LENGTH,
        )
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise _parse_error(f"unexpected character {text[pos]!r}", text, pos)
        if m.group("name") is not None:
            tokens.append(Token("name", m.group("name"), m.start("name")))
        else:
            tokens.append(Token(m.group("punct"), m.group("punct"), m.start("punct")))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    open_positions: list[int] = []
    for tok in tokens:
        if tok.kind == "(":
            open_positions.append(tok.position)
            if len(open_positions) > MAX_NESTING:
                raise _parse_error(
                    f"parallel blocks nested more than {MAX_NESTING} deep (the nesting limit)",
                    text,
                    tok.position,
                )
        elif tok.kind == ")":
            if not open_positions:
                raise _parse_error(
                    "unbalanced parentheses: ')' without a matching '('", text, tok.position
                )
            open_positions.pop()
    if open_positions:
        raise _parse_error("unbalanced parentheses: '(' is never closed", text, open_positions[-1])
    return tokens


# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """A leaf: one element, named type + index (``CPE1``)."""

    symbol: str
    index: str
    position: int = -1

    @property
    def name(self) -> str:
        return f"{self.symbol}{self.index}"

    @property
    def type(self) -> ElementType:
        return ELEMENT_TYPES[self.symbol]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Series:
    children: tuple[Element | Series | Parallel, ...]

    def __str__(self) -> str:
        return "-".join(str(c) for c in self.children)


@dataclass(frozen=True)
class Parallel:
    children: tuple[Element | Series | Parallel, ...]

    def __str__(self) -> str:
        return "p(" + ",".join(str(c) for c in self.children) + ")"


Node = Element | Series | Parallel


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.seen: dict[str, int] = {}

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def error(self, message: str, tok: Token) -> CircuitParseError:
        return _parse_error(message, self.text, tok.position)

    @staticmethod
    def describe(tok: Token) -> str:
        return "the end of the circuit" if tok.kind == "end" else repr(tok.text)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise _parse_error("empty circuit", self.text, 0)
        node = self.series()
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(
                f"unexpected {self.describe(tok)} after a complete circuit (trailing garbage; "
                "join elements with '-' or group them in p(...))",
                tok,
            )
        return node

    def series(self) -> Node:
        terms = [self.term()]
        while self.peek().kind == "-":
            self.i += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else Series(tuple(terms))

    def term(self) -> Node:
        tok = self.peek()
        if tok.kind == "name" and tok.text in ("p", "P") and self.peek(1).kind == "(":
            return self.parallel()
        if tok.kind == "name":
            self.i += 1
            return self.element(tok)
        raise self.error(f"expected an element or 'p(' but found {self.describe(tok)}", tok)

    def parallel(self) -> Parallel:
        start = self.peek()
        self.i += 2  # 'p' '('
        if self.peek().kind == ")":
            raise self.error("empty parallel block 'p()'", start)
        branches = [self.series()]
        while self.peek().kind == ",":
            self.i += 1
            if self.peek().kind in (",", ")"):
                raise self.error("empty branch in a parallel block", self.peek())
            branches.append(self.series())
        tok = self.peek()
        if tok.kind != ")":
            raise self.error(f"expected ',' or ')' but found {self.describe(tok)}", tok)
        self.i += 1
        if len(branches) < 2:
            raise self.error("a parallel block needs at least two branches, e.g. p(R1,C1)", start)
        return Parallel(tuple(branches))

    def element(self, tok: Token) -> Element:
        m = _NAME_RE.match(tok.text)
        assert m is not None  # guaranteed by the tokenizer
        symbol, index = m.groups()
        etype = element_type(symbol)
        if etype is None:
            raise self.error(
                f"unknown element type {symbol!r} in {tok.text!r} (known: {_KNOWN})", tok
            )
        if not index:
            raise self.error(
                f"element {tok.text!r} needs an index ({etype.symbol}0, {etype.symbol}1, ...)",
                tok,
            )
        el = Element(etype.symbol, index, tok.position)
        if el.name in self.seen:
            raise self.error(
                f"element name {el.name!r} used twice (first at position {self.seen[el.name]})",
                tok,
            )
        self.seen[el.name] = tok.position
        return el


# --- evaluation --------------------------------------------------------------------------------

_Evaluator = Callable[[list[np.ndarray]], np.ndarray]


def _compile(node: Node, w: Omega, first_column: dict[str, int], want: str) -> _Evaluator:
    """A function of the parameter columns → Z (``want="z"``) or Y = 1/Z (``want="y"``).

    The argument is the list of parameter columns, each of shape (n_sets, 1); results broadcast
    to (n_sets, n_omega) (a lone resistor gives (n_sets, 1)). Series impedances add, parallel
    admittances add; elements with a cheap admittance (R, C, CPE) give it directly to a
    parallel block instead of inverting their impedance.
    """
    if isinstance(node, Element):
        etype = node.type
        j0 = first_column[node.name]
        j1 = j0 + etype.n_params
        if want == "y" and etype.y is not None:
            y = etype.y
            return lambda cols: y(w, *cols[j0:j1])
        z = etype.z
        if want == "y":
            return lambda cols: 1.0 / z(w, *cols[j0:j1])
        return lambda cols: z(w, *cols[j0:j1])
    native = "z" if isinstance(node, Series) else "y"
    parts = [_compile(c, w, first_column, native) for c in node.children]

    def total(cols: list[np.ndarray]) -> np.ndarray:
        acc = parts[0](cols)
        for f in parts[1:]:
            acc = acc + f(cols)
        return acc

    if want == native:
        return total
    return lambda cols: 1.0 / total(cols)


class Circuit:
    """A parsed equivalent circuit.

    >>> c = Circuit("R0-p(R1,CPE1)")
    >>> c.param_names
    ('R0', 'R1', 'CPE1_Q', 'CPE1_n')
    >>> str(c)
    'R0-p(R1,CPE1)'

    Parameters are ordered as the elements appear in the string, each element's parameters in
    the order of :data:`iondyn.eis.elements.ELEMENT_TYPES`.
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise CircuitParseError(f"a circuit must be a string, not {type(text).__name__}")
        self.root: Node = _Parser(text).parse()
        self.elements: tuple[Element, ...] = tuple(_leaves(self.root))
        names: list[str] = []
        units: list[str] = []
        kinds: list[str] = []
        defaults: list[float] = []
        self._first_column: dict[str, int] = {}
        for el in self.elements:
            self._first_column[el.name] = len(names)
            names += el.type.parameter_names(el.name)
            for spec in el.type.parameters:
                units.append(spec.unit)
                kinds.append(spec.kind)
                defaults.append(spec.default)
        self.param_names: tuple[str, ...] = tuple(names)
        self.param_units: dict[str, str] = dict(zip(names, units))
        self.param_kinds: dict[str, str] = dict(zip(names, kinds))
        self.defaults: dict[str, float] = dict(zip(names, defaults))
        self._index = {name: i for i, name in enumerate(names)}
        self._positive = np.array([k == "positive" for k in kinds], dtype=bool)
        self._last_evaluator: tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]] | None = None

    # --- identity ---------------------------------------------------------------------------

    @property
    def string(self) -> str:
        """The canonical circuit string (no spaces, canonical element-type spelling)."""
        return str(self.root)

    def __str__(self) -> str:
        return self.string

    def __repr__(self) -> str:
        return f"Circuit({self.string!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Circuit) and other.string == self.string

    def __hash__(self) -> int:
        return hash(self.string)

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def index(self, name: str) -> int:
        """Column of parameter ``name``; InputError naming the known parameters otherwise."""
        try:
            return self._index[name]
        except KeyError:
            raise InputError(
                f"unknown parameter {name!r} for circuit {self.string!r} "
                f"(parameters: {', '.join(self.param_names)})"
            ) from None

    # --- parameters -------------------------------------------------------------------------

    def params_to_array(self, params: Mapping[str, Any] | np.ndarray | Any) -> np.ndarray:
        """Parameters as a float array (n_sets, n_params).

        Accepts a mapping name → value (scalars, or arrays of length n_sets; every parameter
        required), an array (n_params,) or an array (n_sets, n_params).
        """
        if isinstance(params, Mapping):
            unknown = [k for k in params if k not in self._index]
            if unknown:
                self.index(unknown[0])
            missing = [k for k in self.param_names if k not in params]
            if missing:
                raise InputError(
                    f"missing parameter(s) {', '.join(missing)} for circuit {self.string!r}"
                )
            cols = [np.atleast_1d(np.asarray(params[k], dtype=float)) for k in self.param_names]
            try:
                return np.stack(np.broadcast_arrays(*cols), axis=-1)
            except ValueError:
                raise InputError("parameter arrays have different lengths") from None
        arr = np.asarray(params, dtype=float)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_params:
            raise InputError(
                f"parameters must have shape (n_sets, {self.n_params}) for circuit "
                f"{self.string!r}, got {np.shape(params)}"
            )
        return arr

    def check_params(self, P: np.ndarray) -> None:
        """InputError unless every value is finite and positive quantities are > 0."""
        if not np.all(np.isfinite(P)):
            raise InputError(f"non-finite parameter values for circuit {self.string!r}")
        bad = np.any(P <= 0, axis=0) & self._positive
        if bad.any():
            names = [k for k, b in zip(self.param_names, bad) if b]
            raise InputError(f"parameter(s) {', '.join(names)} must be positive")

    def array_to_params(self, row: np.ndarray) -> dict[str, float]:
        """One parameter set (n_params,) as a dict name → value."""
        return {k: float(v) for k, v in zip(self.param_names, np.asarray(row, dtype=float))}

    # --- evaluation -------------------------------------------------------------------------

    def evaluator(self, omega: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """A compiled function P (n_sets, n_params) → Z (n_sets, n_omega) on a fixed ω grid.

        Use it in loops (fits, replicas) to skip re-compiling; no input checks are made.
        """
        w = Omega(np.ascontiguousarray(omega, dtype=float))
        f = _compile(self.root, w, self._first_column, "z")
        shape = w.omega.shape

        def evaluate(P: np.ndarray) -> np.ndarray:
            if P.shape[0] == 1:  # scalars: NumPy's scalar-array operations are cheaper
                z = f(P[0].tolist())
                return np.broadcast_to(z, shape)[None, :]
            z = f(list(P.T[:, :, None]))
            return z if z.shape[1:] == shape else np.broadcast_to(z, (P.shape[0], *shape))

        return evaluate

    def impedance(self, omega: Any, params: Mapping[str, Any] | np.ndarray) -> np.ndarray:
        """Z(ω) in Ω for one or many parameter sets.

        ``omega`` is the angular frequency 2πf in rad/s (1-D, positive). With a 1-D parameter
        array (or a dict of scalars) the result has shape (n_omega,); with (n_sets, n_params)
        it has shape (n_sets, n_omega).
        """
        omega = np.asarray(omega, dtype=float)
        if omega.ndim != 1 or omega.size == 0 or not np.all(omega > 0):
            raise InputError("omega must be a non-empty 1-D array of positive angular frequencies")
        P = self.params_to_array(params)
        self.check_params(P)
        single = (not isinstance(params, Mapping) and np.ndim(params) == 1) or (
            isinstance(params, Mapping) and all(np.ndim(v) == 0 for v in params.values())
        )
        cached = self._last_evaluator
        if cached is None or not np.array_equal(cached[0], omega):
            cached = (omega.copy(), self.evaluator(omega))
            self._last_evaluator = cached  # repeated calls on one grid skip the compilation
        z = cached[1](P) + 0j  # a real result (pure resistor) becomes complex
        return z[0].copy() if single else z

    def impedance_at(self, frequency: Any, params: Mapping[str, Any] | np.ndarray) -> np.ndarray:
        """Like :meth:`impedance` with frequencies f in Hz (ω = 2πf)."""
        return self.impedance(2.0 * np.pi * np.asarray(frequency, dtype=float), params)


def _leaves(node: Node) -> list[Element]:
    if isinstance(node, Element):
        return [node]
    out: list[Element] = []
    for child in node.children:
        out += _leaves(child)
    return out


def parse_circuit(text: str | Circuit) -> Circuit:
    """Parse a circuit string (a :class:`Circuit` is returned unchanged)."""
    return text if isinstance(text, Circuit) else Circuit(text)
