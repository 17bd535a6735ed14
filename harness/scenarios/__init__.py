"""Scenario checks, one class per scenario of spec/scenarios/, registered by name."""

from harness.scenarios import (core, cutover, lifecycle, pool_errors, pool_exhaustion, pool_sizing, pools,  # noqa: F401
                               related, session_state)  # importing registers the checks
from harness.scenarios.base import REGISTRY, CaseContext, ScenarioCheck, Verdict

__all__ = ["REGISTRY", "CaseContext", "ScenarioCheck", "Verdict"]
