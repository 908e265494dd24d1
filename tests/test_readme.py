"""The README stays a short front page whose test command is the one CI runs."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).parent.parent


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_readme_test_command_is_the_one_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    ci_command = [line for line in ci.splitlines() if "pytest" in line and not line.startswith("#")][-1].strip()
    ci_command = ci_command.replace("pip install -q ", "pip install ")  # CI only silences pip
    readme_commands = [line.strip() for line in readme.splitlines() if "python -m pytest" in line]
    assert any(line.endswith(ci_command) for line in readme_commands), (ci_command, readme_commands)


def test_docs_links_in_readme_resolve():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target


def test_readme_links_the_migration_guide_and_promises_no_one_line_switch():
    readme = (ROOT / "README.md").read_text()
    assert "docs/migrating-from-mlflow.md" in readme
    for claim in ("unchanged but for this line", "only this line changes", "only the import changes"):
        assert claim not in readme
