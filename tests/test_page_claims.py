"""The page's claims of the PgBouncer stories (spec `page_claim:`) and the driver fixes' user-facing
snippets (spec/pgbouncer.yaml `snippet:`): loaded from one place, refused with a clear error when
malformed, and shown beside what was measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.pooler.fixes import load_fixes, snippets
from harness.spec import load_scenario, load_spec

SPEC = Path(__file__).resolve().parent.parent / "spec"
FIXES_TAIL = """fixes:
  - name: prepareThreshold=0
    examples: [java/hikaricp]
    topologies: [pgbouncer-transaction]
    reason: r
    resolves: [param_query]
    env: {A: b}
"""


def test_each_pgbouncer_story_states_the_pages_claim_once() -> None:
    scenarios = load_spec(SPEC).scenarios
    exhaustion = scenarios["story_pool_exhaustion"].page_claim
    cutover = scenarios["story_pause_resume_cutover"].page_claim
    assert exhaustion is not None and exhaustion.figure == "2 s → 50 ms" and "2s to 50ms" in exhaustion.quote
    assert cutover is not None and cutover.figure == "3 seconds, no dropped transactions"
    assert "3 seconds, with no dropped transactions" in cutover.quote
    # The limit case reports the cutover's claim (harness.scenarios.cutover), it has none of its own.
    assert scenarios["story_pause_resume_limit"].page_claim is None


@pytest.mark.parametrize(("claim", "key", "fix"), [
    ("page_claim: {figure: '3 s'}\n", "page_claim.quote", "add `quote:`"),
    ("page_claim: {figure: '', quote: q}\n", "page_claim.figure", "give the page's figures"),
    ("page_claim: {figure: f, quote: q, source: x}\n", "page_claim.source", "use only"),
    ("page_claim: 3 seconds\n", "page_claim", "must be a mapping"),
])
def test_a_malformed_page_claim_names_the_file_the_key_and_the_fix(tmp_path: Path, claim: str, key: str,
                                                                   fix: str) -> None:
    path = tmp_path / "story_x.yaml"
    path.write_text("summary: s\ngroup: story\nmax_statements: 1\n" + claim, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_scenario(path)
    text = error.value.render()
    assert str(path) in text and key in text and fix in text


def test_every_driver_fix_carries_the_snippet_a_user_pastes() -> None:
    load_fixes.cache_clear()
    assert snippets(SPEC) == {"prepareThreshold=0": "jdbc:postgresql://host:6432/db?prepareThreshold=0"}


@pytest.mark.parametrize(("snippet", "said"), [("", "is missing"), ("    snippet: [a]\n", "is ['a']")])
def test_a_fix_without_a_snippet_names_the_file_the_key_and_the_fix(tmp_path: Path, snippet: str, said: str) -> None:
    (tmp_path / "pgbouncer.yaml").write_text(FIXES_TAIL + snippet, encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_fixes(tmp_path)
    text = error.value.render()
    assert "pgbouncer.yaml" in text and "fixes[0]" in text and "snippet" in text and said in text
