"""The spec's TLS refusal patterns against the real words of every TLS stack the examples use
(tests/data/tls_refusals.json, captured on this machine by tests/tls_wordings/capture.py against
a server with the harness's own TLS material): each stack's refusal of the wrong host passes
tls_wrong_host, of the wrong CA passes tls_wrong_ca, and the host pattern never mistakes a wrong
CA for a wrong host."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes import SPEC_LOADED, check_for, verify
from tests.support import REPO

WORDINGS = json.loads((REPO / "tests" / "data" / "tls_refusals.json").read_text())
# Seen from pgjdbc's own host-name verifier (java/hikaricp in CI); JSSE's is in the capture.
PGJDBC_WRONG_HOST = "The hostname 127.0.0.2 could not be verified by hostnameverifier PgjdbcHostnameVerifier."
STACKS = sorted(WORDINGS)


def pattern(scenario: str) -> str:
    return str(SPEC_LOADED.scenarios[scenario].expect["message_pattern"])


def test_every_stack_tls_wordings_were_captured() -> None:
    assert {"openssl (python ssl)", "rustls", "go crypto/tls", "java jsse", "node", "libpq (psql)"} <= set(STACKS)
    assert all(not w.startswith("accepted") for words in WORDINGS.values() for w in words.values()), WORDINGS


@pytest.mark.parametrize("stack", STACKS)
def test_a_wrong_host_refusal_in_the_stacks_words_passes(stack: str) -> None:
    error = {"kind": "certificate", "type": "TLS", "message": WORDINGS[stack]["wrong_host"]}
    assert re.search(pattern("tls_wrong_host"), error["message"]), error["message"]
    assert not re.search(pattern("tls_wrong_host"), WORDINGS[stack]["wrong_ca"]), \
        f"the host-name pattern accepts {stack}'s refusal of a wrong CA: {WORDINGS[stack]['wrong_ca']!r}"


@pytest.mark.parametrize("stack", STACKS)
def test_a_wrong_ca_refusal_in_the_stacks_words_passes(stack: str) -> None:
    assert re.search(pattern("tls_wrong_ca"), WORDINGS[stack]["wrong_ca"]), WORDINGS[stack]["wrong_ca"]


def test_the_ip_address_mismatch_passes_tls_wrong_host_and_pgjdbcs_words_too() -> None:
    assert re.search(pattern("tls_wrong_host"), PGJDBC_WRONG_HOST)
    error = {"kind": "certificate", "type": "Error",
             "message": "error performing TLS handshake: certificate verify failed: IP address mismatch"}
    verdict = verify(check_for("tls_wrong_host"), {"error": error})
    assert not [p for p in verdict.problems if "does not name the host name" in p], verdict.problems


def test_a_refusal_no_pattern_knows_says_what_to_do() -> None:
    error = {"kind": "certificate", "type": "Error", "message": "handshake failure: peer rejected"}
    problems = verify(check_for("tls_wrong_host"), {"error": error}).problems
    assert problems[0].startswith("the driver's error does not name the host name: 'handshake failure: peer rejected'; "
                                  "if it refuses for the right reason in words of a TLS stack the spec does not know, "
                                  "add them to expect.message_pattern of spec/scenarios/tls_wrong_host.yaml")
