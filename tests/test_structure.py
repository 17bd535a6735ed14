"""The house rules of harness/ that a change can break without any behaviour changing: small
modules, a session that only holds resources, writers that only render the view's rows."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_over_400_lines_and_the_session_under_200() -> None:
    sizes = {p.relative_to(HARNESS).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in HARNESS.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
    assert sizes["session.py"] < 200


def test_the_report_writers_import_neither_the_probe_nor_the_session_nor_the_results_classes() -> None:
    writers = [p for p in (HARNESS / "reporting").glob("*.py") if p.name != "__init__.py"]
    assert len(writers) >= 7
    for path in writers:
        forbidden = imported_modules(path) & {"harness.probe", "harness.session", "harness.outcome", "harness.runner"}
        assert not forbidden, f"{path.name} imports {forbidden}: a writer renders the rows of reporting/view.py"


def test_only_config_reads_the_environment() -> None:
    readers = [p.relative_to(HARNESS).as_posix() for p in HARNESS.rglob("*.py")
               if "os.environ" in p.read_text(encoding="utf-8") or "getenv(" in p.read_text(encoding="utf-8")]
    assert readers == ["config.py"]
