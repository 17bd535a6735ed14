"""harness.runner: the Selection filters (--example, --scenario, -k) and the plan they make."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.manifest import Example
from harness.runner import Selection, planned_cases

SCENARIOS = ["connect_now", "select_rows", "pool_bounded", "pool_reuse", "no_pool_exhaustion"]


def example(example_id: str) -> Example:
    language, name = example_id.split("/")
    folder = Path("/nowhere") / language / name
    return Example(id=example_id, language=language, title=name, driver_name="d", driver_version="1", folder=folder,
                   manifest=folder / "example.yaml", run_command=("true",))


EXAMPLES = [example(i) for i in ("node/pg-client", "node/pg-pool", "java/hikaricp", "python/psycopg2")]


def plan(selection: Selection) -> dict[str, list[str]]:
    catalog = SimpleNamespace(examples=EXAMPLES, spec=SimpleNamespace(names=SCENARIOS))
    return {ex.id: names for ex, names in planned_cases(catalog, selection)}  # type: ignore[arg-type]


def test_no_filter_selects_everything() -> None:
    assert plan(Selection()) == {e.id: SCENARIOS for e in EXAMPLES}


@pytest.mark.parametrize(("patterns", "expected"), [
    (("node/pg-pool",), ["node/pg-pool"]),
    (("node/*",), ["node/pg-client", "node/pg-pool"]),
    (("node",), ["node/pg-client", "node/pg-pool"]),           # a language
    (("*/pg-*",), ["node/pg-client", "node/pg-pool"]),
    (("java/hikaricp", "python"), ["java/hikaricp", "python/psycopg2"]),
    (("pg-pool",), []),                                          # a bare name is neither id nor language
    (("node/pg",), []),                                          # no prefix matching
])
def test_example_filters(patterns: tuple[str, ...], expected: list[str]) -> None:
    assert list(plan(Selection(examples=patterns))) == expected


@pytest.mark.parametrize(("patterns", "expected"), [
    (("select_rows",), ["select_rows"]),
    (("pool_*",), ["pool_bounded", "pool_reuse"]),
    (("*pool*",), ["pool_bounded", "pool_reuse", "no_pool_exhaustion"]),
    (("connect_now", "pool_reuse"), ["connect_now", "pool_reuse"]),
])
def test_scenario_filters_keep_the_spec_order(patterns: tuple[str, ...], expected: list[str]) -> None:
    selected = plan(Selection(scenarios=patterns))
    assert list(selected) == [e.id for e in EXAMPLES]
    assert all(names == expected for names in selected.values())


def test_keyword_matches_id_and_scenario_together() -> None:
    assert plan(Selection(keyword="pg-pool::pool_")) == {"node/pg-pool": ["pool_bounded", "pool_reuse"]}
    assert plan(Selection(keyword="hikari")) == {"java/hikaricp": SCENARIOS}
    assert plan(Selection(keyword="nothing-like-this")) == {}


def test_filters_combine() -> None:
    selection = Selection(examples=("node/*",), scenarios=("pool_*",), keyword="reuse")
    assert plan(selection) == {"node/pg-client": ["pool_reuse"], "node/pg-pool": ["pool_reuse"]}


def test_an_example_with_no_selected_scenario_is_left_out() -> None:
    assert plan(Selection(examples=("java/*",), scenarios=("no_such_*",))) == {}
