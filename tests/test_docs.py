"""Every command in README.md and docs/*.md runs: the fenced ``bash`` and ``python`` blocks are extracted and
executed, one page at a time, in a fresh folder on the embedded default store.

How a page tells this test what it needs (HTML comments, invisible on GitHub):

- ``<!-- docs-test: skip REASON -->`` on the line right before a fence: the block is not run; REASON
  says why (it installs packages, needs a server that is not part of this version, ...).
- ``<!-- docs-test: setup`` ... ``-->``: Python run at that place among the page's Python blocks (data
  the snippets use, runs the commands look at).
- ``<!-- docs-test: file NAME`` ... ``-->``: a file written into the page's folder first (``train.py``);
  a visible block whose fence names a file (```` ```python tinyfit.py ````) is such a file too.

The page's Python blocks run in order in one interpreter, as cells of a notebook (later blocks see
earlier names); then its bash blocks run in order, each with ``bash -euo pipefail``, with ``python``
and ``autotrack`` being this environment's. Blocks of other languages (``text``, output) are not run.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

import pytest

ROOT = pathlib.Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^(\s*)```(\w*)(?:[ \t]+(\S+))?\s*$")  # ```python, or ```python NAME.py (a file)
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*(-->)?\s*$")


@dataclass
class Page:
    python: list[tuple[int, str]] = field(default_factory=list)  # (line, code)
    bash: list[tuple[int, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, language, reason)


def parse(path: pathlib.Path) -> Page:
    """The runnable blocks, setups, files and skips of one markdown page."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = Page()
    i = 0
    while i < len(lines):
        directive = _DIRECTIVE.match(lines[i])
        if directive and directive.group(1) in ("setup", "file") and not directive.group(3):
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                body.append(lines[i])
                i += 1
            if directive.group(1) == "setup":
                page.python.append((i + 1, "# (setup)\n" + "\n".join(body)))
            else:
                page.files[directive.group(2)] = "\n".join(body) + "\n"
            i += 1
            continue
        fence = _FENCE.match(lines[i])
        if fence:
            indent, language, file_name = fence.group(1), fence.group(2), fence.group(3)
            start = i
            body = []
            i += 1
            while i < len(lines) and not re.match(rf"^{indent}```\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            code = textwrap.dedent("\n".join(body))
            before = _DIRECTIVE.match(lines[start - 1]) if start else None
            if before and before.group(1) == "skip":
                assert before.group(2).strip(" ->"), f"{path.name}:{start + 1}: a skip marker must give its reason"
                page.skipped.append((start + 1, language, before.group(2)))
            elif file_name:  # a block titled with a file name is that file: written, not run
                page.files[file_name] = code + "\n"
            elif language == "python":
                page.python.append((start + 1, code))
            elif language in ("bash", "sh", "shell"):
                page.bash.append((start + 1, code))
        i += 1
    return page


def _env(folder: pathlib.Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOTRACK_")}
    env.update({"MPLBACKEND": "Agg", "AUTOTRACK_STRICT": "1", "COLUMNS": "100", "HOME": os.environ.get("HOME", str(folder))})
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _run(args: list[str], folder: pathlib.Path, what: str, stdin: str | None = None) -> None:
    done = subprocess.run(args, cwd=folder, env=_env(folder), input=stdin, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-4000:]}"


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_page_commands_run(path, tmp_path):
    page = parse(path)
    if not (page.python or page.bash) or all(code.startswith("# (setup)") for _, code in page.python) and not page.bash:
        pytest.skip(f"{path.name} has no runnable block")
    for name, text in page.files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    # the docs' relative paths (examples/...) are those of the repository: link them into the folder
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    if page.python:
        cells = [f"# {path.name}:{line}\n{code}" for line, code in page.python]
        script = tmp_path / "_docs_page.py"
        script.write_text("\n\n".join(cells) + "\n")
        _run([sys.executable, str(script)], tmp_path, f"the python blocks of {path.name}")
    for line, code in page.bash:
        _run(["bash", "-euo", "pipefail", "-c", code], tmp_path, f"the bash block at {path.name}:{line}")


def test_every_skip_gives_a_reason_and_runnable_blocks_exist():
    pages = {p.name: parse(p) for p in PAGES}
    assert sum(len(p.python) + len(p.bash) for p in pages.values()) >= 10
    for name, page in pages.items():
        for line, language, reason in page.skipped:
            assert len(reason.strip(" ->")) >= 10, f"{name}:{line}: say why the {language} block cannot run here"


# ---------------------------------------------------------------------- the migration guide's table
def _resolve(dotted: str):
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def _names(cell: str) -> list[str]:
    """``a.b.c`` / ``d`` in a table cell: full dotted names, a bare name taking the module of the one before."""
    out: list[str] = []
    for token in re.findall(r"`([^`]+)`", cell):
        if " " in token or "=" in token:
            continue  # CLI commands and environment variables
        if "." not in token and out:
            token = out[-1].rsplit(".", 1)[0] + "." + token
        out.append(token)
    return out


def _guide_rows() -> list[tuple[str, str, str]]:
    text = (ROOT / "docs" / "migrating-from-mlflow.md").read_text(encoding="utf-8")
    section = text.split("## What autotrack has of MLflow", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2] in ("same", "differs", "no"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_migration_guide_names_exist_in_autotrack():
    rows = _guide_rows()
    assert len(rows) >= 30
    for mlflow_cell, ours_cell, status in rows:
        names = [n for n in _names(ours_cell) if n.startswith("autotrack")]
        if status == "no":
            assert not names, mlflow_cell
            continue
        if "autotrack " in ours_cell.replace("`", ""):  # a CLI row
            continue
        assert names, f"row {mlflow_cell!r} names no autotrack object"
        for name in names:
            _resolve(name)  # raises if the guide names something autotrack does not have


def test_migration_guide_names_exist_in_mlflow():
    pytest.importorskip("mlflow")
    for mlflow_cell, _ours, status in _guide_rows():
        if status == "no":
            continue
        for name in _names(mlflow_cell):
            if name.startswith("mlflow."):
                _resolve(name)
