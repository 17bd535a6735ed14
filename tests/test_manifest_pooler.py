"""An example's own rows behind PgBouncer live in its manifest (`pooler.known_failures`,
`pooler.fixes`), so a new driver's pooled expectations and fix rows are one folder too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.errors import InputError
from harness.manifest import load_manifest
from harness.pooler import topology
from harness.pooler.fixes import fix_of, fixes_for, load_fixes, snippets, topologies_for
from harness.pooler.known import known_behind_pooler, load_incompatibilities
from harness.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "spec"
NAMES = tuple(load_spec(SPEC).names)
POOLER = {
    "known_failures": [{
        "scenario": ["param_query", "transaction"], "topologies": ["pgbouncer-transaction"],
        "max_prepared_statements": True, "error": {"sqlstate": "26000"},
        "reason": "its statement cache names statements per server connection"}],
    "fixes": [{
        "name": "statement_cache_size=0", "topologies": ["pgbouncer-transaction"],
        "reason": "no named statements", "resolves": ["param_query", "transaction"],
        "env": {"STATEMENT_CACHE_SIZE": "0"}, "snippet": "create_pool(dsn, statement_cache_size=0)"}],
}


def examples_with(tmp_path: Path, pooler: object) -> Path:
    """A scratch examples tree: node/pg-client as it is, and a copy of it as node/cached with `pooler`."""
    examples = tmp_path / "examples"
    for name in ("pg-client", "cached"):
        folder = examples / "node" / name
        folder.mkdir(parents=True)
        for file in ("example.yaml", "Dockerfile"):
            shutil.copy(REPO / "examples/node/pg-client" / file, folder / file)
    manifest = examples / "node/cached/example.yaml"
    raw = yaml.safe_load(manifest.read_text())
    raw.update(id="node/cached", pooler=pooler)
    manifest.write_text(yaml.safe_dump(raw, sort_keys=False))
    load_incompatibilities.cache_clear()
    load_fixes.cache_clear()
    return examples


def test_a_manifest_declares_its_own_known_failures_behind_the_pooler(tmp_path: Path) -> None:
    examples = examples_with(tmp_path, POOLER)
    known = known_behind_pooler(SPEC, NAMES, "node/cached", "param_query", "pgbouncer-transaction", examples)
    assert known is not None and "statement cache" in known.reason
    assert known.source.startswith(str(examples / "node/cached/example.yaml"))
    # Only for its own example, its topologies, and not for 1.24 (max_prepared_statements passes it).
    assert known_behind_pooler(SPEC, NAMES, "node/pg-client", "param_query", "pgbouncer-transaction", examples) is None
    assert known_behind_pooler(SPEC, NAMES, "node/cached", "param_query", "pgbouncer-session", examples) is None
    assert known_behind_pooler(SPEC, NAMES, "node/cached", "param_query", "pgbouncer-1.24-transaction", examples) is None
    # The spec's own entries still hold for it.
    assert known_behind_pooler(SPEC, NAMES, "node/cached", "session_set", "pgbouncer-transaction", examples) is not None


def test_a_manifest_declares_its_own_fix_row(tmp_path: Path) -> None:
    examples = examples_with(tmp_path, POOLER)
    [fix] = fixes_for(SPEC, "node/cached", "pgbouncer-transaction", examples)
    assert fix.examples == ("node/cached",) and fix.env == {"STATEMENT_CACHE_SIZE": "0"}
    assert fixes_for(SPEC, "node/pg-client", "pgbouncer-transaction", examples) == []
    via = (topology("pgbouncer-transaction"),)
    assert [t.label for t in topologies_for(SPEC, via, "node/cached", examples)] == [
        "pgbouncer-transaction", "pgbouncer-transaction+statement_cache_size=0"]
    assert [t.label for t in topologies_for(SPEC, via, "node/pg-client", examples)] == ["pgbouncer-transaction"]
    chosen = topology("pgbouncer-transaction+statement_cache_size=0")
    assert fix_of(SPEC, chosen, examples, "node/cached") is fix
    assert snippets(SPEC, examples)["statement_cache_size=0"] == "create_pool(dsn, statement_cache_size=0)"
    with pytest.raises(InputError, match="no driver fix"):
        fix_of(SPEC, chosen)   # without the examples: the spec has no such fix


def test_what_a_fix_gives_up_is_a_known_failure_of_its_row_alone(tmp_path: Path) -> None:
    given_up = {"scenario": "prepared_statement_reuse", "topologies": ["pgbouncer-transaction+statement_cache_size=0"],
                "error": {"message": "named prepared statement"}, "reason": "no statement is named with the cache off"}
    examples = examples_with(tmp_path, {**POOLER, "known_failures": [*POOLER["known_failures"], given_up]})
    fixed = known_behind_pooler(SPEC, NAMES, "node/cached", "prepared_statement_reuse",
                                "pgbouncer-transaction+statement_cache_size=0", examples)
    assert fixed is not None and "cache off" in fixed.reason
    # Not the sample as written, nor another example's row.
    assert known_behind_pooler(SPEC, NAMES, "node/cached", "prepared_statement_reuse", "pgbouncer-transaction", examples) is None
    others = known_behind_pooler(SPEC, NAMES, "node/pg-client", "prepared_statement_reuse",
                                 "pgbouncer-transaction+statement_cache_size=0", examples)
    assert others is None or "cache off" not in others.reason


@pytest.mark.parametrize(("pooler", "key", "fix"), [
    ({**POOLER, "known_failures": [{**POOLER["known_failures"][0], "topologies": ["pgbouncer-transaction+cache_off"]}]},
     "pooler.known_failures[0].topologies", "statement_cache_size=0"),
    ({"fixes": [{**POOLER["fixes"][0], "examples": ["node/*"]}]}, "pooler.fixes[0].examples", "own example"),
    ({"known_failures": [{**POOLER["known_failures"][0], "topologies": ["direct"]}]},
     "pooler.known_failures[0].topologies", "pgbouncer-session"),
])
def test_a_bad_pooler_entry_names_the_manifest_the_key_and_the_fix(tmp_path: Path, pooler: dict, key: str, fix: str) -> None:
    examples = examples_with(tmp_path, pooler)
    with pytest.raises(InputError) as caught:
        load_fixes(SPEC, examples) if key.startswith("pooler.fixes") else load_incompatibilities(SPEC, NAMES, examples)
    text = caught.value.render()
    assert "node/cached/example.yaml" in text and key in text and fix in text


def test_the_schema_refuses_an_unknown_pooler_key(tmp_path: Path) -> None:
    examples = examples_with(tmp_path, {"known_failure": []})
    with pytest.raises(InputError) as caught:
        load_manifest(examples / "node/cached/example.yaml", list(NAMES))
    assert "pooler.known_failure" in caught.value.render()
