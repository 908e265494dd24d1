"""The layering rule of DESIGN.md for integrations: no module under ``autotrack/integrations/``
imports a store or an artifact repository (not even inside a function); they reach tracking
through the integration kit and the tracking client only."""

from __future__ import annotations

import ast
from pathlib import Path

import autotrack.integrations

FORBIDDEN = ("autotrack.stores", "autotrack.artifacts")
ROOT = Path(autotrack.integrations.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def test_no_integration_module_imports_a_store_or_an_artifact_repository():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        for line, name in _imports(path):
            if name.startswith(FORBIDDEN) or name in ("autotrack.stores", "autotrack.artifacts"):
                offenders.append(f"{path.relative_to(ROOT.parent.parent)}:{line} imports {name}")
    assert offenders == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from autotrack.artifacts.local import LocalArtifactRepository\n")
    assert (2, "autotrack.artifacts.local") in _imports(module)
