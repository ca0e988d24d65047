"""The circuit language: tokenizer, parser errors, safety, naming and round trips."""

from __future__ import annotations

import builtins

import pytest

from iondyn.eis.circuit import Circuit, Element, Parallel, Series, parse_circuit, tokenize
from iondyn.errors import CircuitParseError, InputError

PELLET = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"


def test_pellet_parses_into_the_expected_tree_and_names():
    c = Circuit(PELLET)
    assert isinstance(c.root, Series)
    assert [type(n) for n in c.root.children] == [Element, Parallel, Parallel, Element]
    assert c.param_names == (
        "R0",
        "R1",
        "CPE1_Q",
        "CPE1_n",
        "R2",
        "CPE2_Q",
        "CPE2_n",
        "CPE3_Q",
        "CPE3_n",
    )
    assert c.param_units["CPE1_Q"] == "F·s^(n-1)"
    assert c.param_kinds["CPE1_n"] == "exponent"
    assert c.param_kinds["R2"] == "positive"
    assert [e.name for e in c.elements] == ["R0", "R1", "CPE1", "R2", "CPE2", "CPE3"]


@pytest.mark.parametrize(
    "text",
    [
        PELLET,
        "R0",
        "p(R1,C1)",
        "R0-p(R1-C1,R2,p(R3,L3)-W3)-Wo1-Ws2",
        "L0-R0-p(ZARC1,HN1)-G1-TLM1",
        "p(p(R1,C1),p(R2,C2))",
    ],
)
def test_round_trip_circuit_string_circuit(text):
    c = Circuit(text)
    again = Circuit(str(c))
    assert again == c
    assert str(again) == str(c) == text
    assert again.param_names == c.param_names


def test_whitespace_and_case_are_normalised():
    c = Circuit(" r0 - P( r1 , cpe1 )-zarc2 - wo3-ws4 - hn5 ")
    assert str(c) == "R0-p(R1,CPE1)-ZARC2-Wo3-Ws4-HN5"
    assert "ZARC2_tau" in c.param_names and "HN5_alpha" in c.param_names
    assert parse_circuit(c) is c


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("X1", "unknown element type 'X'", 0),
        ("R0-Q1", "unknown element type 'Q'", 3),
        ("R0-p(R1,C1", "unbalanced parentheses", 4),
        ("R0-p(R1,C1))", "unbalanced parentheses", 11),
        ("R0)", "unbalanced parentheses", 2),
        ("R0-p()", "empty parallel", 3),
        ("p(R1,,C1)", "empty branch", 5),
        ("p(R1,C1,)", "empty branch", 8),
        ("p(R1)", "at least two branches", 0),
        ("R1-p(R1,C2)", "used twice", 5),
        ("r1-R1", "used twice", 3),
        ("R1 C1", "trailing garbage", 3),
        ("R1-C1 xyz", "trailing garbage", 6),
        ("R0-p(R1,C1)R2", "trailing garbage", 11),
        ("R1--C1", "expected an element", 3),
        ("R1-", "expected an element", 3),
        ("-R1", "expected an element", 0),
        ("R", "needs an index", 0),
        ("", "empty circuit", 0),
        ("   ", "empty circuit", 0),
        ("R1+C1", "unexpected character '+'", 2),
        ("R1-C1;", "unexpected character ';'", 5),
        ("R_1", "unexpected character '_'", 1),
        ("p(R1 C1)", "expected ',' or ')'", 5),
    ],
)
def test_errors_name_the_problem_and_position(text, fragment, position):
    with pytest.raises(CircuitParseError) as info:
        Circuit(text)
    err = info.value
    assert fragment in str(err)
    assert err.position == position
    assert f"at position {position}" in str(err)
    assert "\n" not in str(err)
    assert isinstance(err, InputError)


def test_injection_string_is_rejected_and_nothing_runs(monkeypatch):
    calls = []

    def trap(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the parser must never evaluate its input")

    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(builtins, "exec", trap)
    monkeypatch.setattr(builtins, "compile", trap)
    real_import = builtins.__import__

    def guarded_import(name, *args, **kwargs):
        if name in ("os", "subprocess"):
            calls.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", guarded_import)
    for text in (
        "__import__('os').system('id')",
        "R0-__import__('os').system('touch /tmp/iondyn_pwned')",
        "p(R1,C1)-eval('1')",
        "R1;import os",
    ):
        with pytest.raises(CircuitParseError) as info:
            Circuit(text)
        assert info.value.position is not None
    assert calls == []


def test_injection_position_is_the_first_bad_character():
    with pytest.raises(CircuitParseError) as info:
        Circuit("__import__('os').system('id')")
    assert info.value.position == 0
    with pytest.raises(CircuitParseError) as info:
        Circuit("R0-eval('1')")
    # the whole string is tokenized first: the quote is the first character outside the language
    assert info.value.position == 8 and "unexpected character" in str(info.value)
    with pytest.raises(CircuitParseError) as info:
        Circuit("R0-eval")
    assert info.value.position == 3 and "unknown element type 'eval'" in str(info.value)


def test_tokenizer_positions():
    toks = tokenize("R0 - p(CPE1,R1)")
    assert [(t.kind, t.text, t.position) for t in toks] == [
        ("name", "R0", 0),
        ("-", "-", 3),
        ("name", "p", 5),
        ("(", "(", 6),
        ("name", "CPE1", 7),
        (",", ",", 11),
        ("name", "R1", 12),
        (")", ")", 14),
        ("end", "", 15),
    ]


def test_non_string_circuit_is_an_input_error():
    with pytest.raises(CircuitParseError):
        Circuit(42)  # type: ignore[arg-type]


def test_unknown_parameter_name_lists_the_known_ones():
    c = Circuit("R0-p(R1,CPE1)")
    with pytest.raises(InputError, match="CPE1_Q"):
        c.index("CPE1_q")


def _nested(depth: int) -> str:
    text = "R0"
    for k in range(1, depth + 1):
        text = f"p({text},C{k})"
    return text


def test_nesting_limit():
    from iondyn.eis.circuit import MAX_NESTING

    c = Circuit(_nested(MAX_NESTING))  # at the limit: parsed, round-trips
    assert Circuit(str(c)) == c and c.n_params == MAX_NESTING + 1
    for text in (_nested(MAX_NESTING + 1), _nested(300), "p(" * 1000 + "R1"):
        with pytest.raises(CircuitParseError, match="nesting limit") as info:
            Circuit(text)
        # the position is the '(' that opens level MAX_NESTING + 1; the message stays short
        assert text[info.value.position] == "("
        assert text[: info.value.position + 1].count("(") == MAX_NESTING + 1
        assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_length_limit_and_long_strings_are_quoted_in_part():
    from iondyn.eis.circuit import MAX_LENGTH

    chain = "-".join(f"p(R{k},C{k})" for k in range(1, 31))  # 30 arcs: accepted
    assert Circuit(chain).n_params == 60
    with pytest.raises(CircuitParseError, match="longer than the limit") as info:
        Circuit("R0-" * (MAX_LENGTH // 3 + 1) + "R1")
    assert len(str(info.value)) < 300
    text = chain + "-X9"
    with pytest.raises(CircuitParseError, match="unknown element type 'X'") as info:
        Circuit(text)
    assert info.value.position == len(chain) + 1 and len(str(info.value)) < 300
