"""Scenario checks, one class per scenario of spec/scenarios/, registered by name."""

from harness.scenarios import core, lifecycle, pool_errors, pool_sizing, pools, related, session_state  # noqa: F401 - importing registers the checks
from harness.scenarios.base import REGISTRY, CaseContext, ScenarioCheck, Verdict

__all__ = ["REGISTRY", "CaseContext", "ScenarioCheck", "Verdict"]
