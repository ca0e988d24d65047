"""The docs stand alone and their examples are true.

* Every ```` ```console ```` block of ``docs/*.md`` and ``README.md`` is a terminal session:
  ``$ iondyn …`` lines (``\\`` continues a line) are run from the repository root (in a copy
  of it made of links, so files the commands write stay out of the tree) and what they print
  (stdout, then stderr) must match the lines under them; ``…`` in the docs stands for any
  text, and runs of white space compare equal. ``$ echo $?`` prints the last exit code.
* No file cites the project's internal design and reference notes, which are not in the
  repository (their names are assembled in the test so that this file does not cite them):
  the published sources are cited instead.
"""

from __future__ import annotations

import doctest
import io
import re
import shlex
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from iondyn.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: Files whose citations others maintain (the decisions log is edited by the lead).
NOT_CHECKED = {"decisions.md", "test_docs_examples.py"}


def sessions() -> list[tuple[str, list[tuple[str, str]]]]:
    """(name, [(command, expected output)]) of every console block."""
    out = []
    for path in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        for k, block in enumerate(re.findall(r"^```console\n(.*?)^```", text, re.S | re.M)):
            steps: list[tuple[str, list[str]]] = []
            lines = block.splitlines()
            i = 0
            while i < len(lines):
                line = lines[i]
                if line.startswith("$ "):
                    command = line[2:]
                    while command.endswith("\\"):
                        i += 1
                        command = command[:-1] + " " + lines[i].strip()
                    steps.append((command, []))
                elif steps:
                    steps[-1][1].append(line)
                i += 1
            name = f"{path.relative_to(ROOT)}#{k + 1}"
            out.append((name, [(c, "\n".join(w)) for c, w in steps]))
    return out


SESSIONS = sessions()


def test_the_docs_have_checked_examples():
    names = " ".join(name for name, _ in SESSIONS)
    for doc in ("peaks.md", "eis-formats.md", "eis-circuits.md", "eis-kk-drt.md", "tsdc.md"):
        assert f"docs/{doc}#" in names


@pytest.fixture
def tree(tmp_path, monkeypatch):
    for name in ("src", "tests", "examples", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("name", "steps"), SESSIONS, ids=[name for name, _ in SESSIONS])
def test_documented_commands_print_what_the_docs_show(tree, name, steps):
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    code = 0
    for command, want in steps:
        argv = shlex.split(command)
        if argv == ["echo", "$?"]:
            got = f"{code}\n"
        else:
            assert argv[0] == "iondyn", f"{name}: only iondyn commands are run: {command}"
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(argv[1:])
            got = out.getvalue() + err.getvalue()
        want = want.replace("…", "...").strip() + "\n"
        assert checker.check_output(want, got.strip() + "\n", flags), (
            f"{name}: `{command}` printed\n{got}\nwhile the docs show\n{want}"
        )


def test_no_file_cites_documents_that_are_not_in_the_repository():
    ref, design = "REFER" + "ENCE", "DES" + "IGN"  # the notes' names, not cited here
    cited = re.compile(rf"{ref}(\.md)?\b(?! *\()|{design}(\.md)? ?§|{design}\.md")
    files = [ROOT / "README.md"]
    for folder in ("src", "docs", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*"):
            parts = set(path.relative_to(ROOT).parts)
            if any(p.startswith(".") for p in parts) or path.suffix not in (".py", ".md"):
                continue
            if path.name in NOT_CHECKED:
                continue
            files.append(path)
    found = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if cited.search(line) and "TAU0_REFERENCE" not in line and "REFERENCES " not in line:
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
