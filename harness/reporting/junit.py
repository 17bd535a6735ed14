"""JUnit XML for CI services: reports/junit/<language>-<name>.xml per example, and all.xml.

One <testsuite> per example, one <testcase> per scenario (classname = the example id). The
mapping of the harness's verdicts:

  passed          plain testcase
  failed          <failure message=summary type="failed"> with the rendered details (diff, stderr
                  tail, server view, reproduce command) as text
  xpassed         <failure type="xpassed">: a known failure that passed must turn CI red
  xfailed         <skipped message="known failure: ..."> with the details as text
  not_applicable  <skipped type="not_applicable" message=reason>
  skipped         <skipped type="not_declared" message=...>

Every testcase carries the example's stdout/stderr of that case as <system-out>/<system-err>.
Run-level errors (a broken manifest ...) become <error> testcases of a "harness" suite in all.xml.
The files follow the Jenkins/Ant JUnit schema (tests/data/junit-jenkins.xsd)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from harness.reporting.view import FAILED, NOT_APPLICABLE, PASSED, SKIPPED, XFAILED, XPASSED, file_stem

JUNIT_DIR = "junit"
MERGED = "all.xml"
# Characters XML 1.0 cannot hold (terminal escapes, NUL ...); example output may contain them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str | None) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text or "")


def _seconds(value: Any) -> float:
    # Rounded so the attribute never reads like 1e-05 (the schema's time pattern has no exponent).
    try:
        return round(max(float(value or 0), 0.0), 3)
    except (TypeError, ValueError):
        return 0.0


def testcase(example: dict[str, Any], scenario: dict[str, Any]) -> TestCase:
    case = TestCase(name=scenario["name"], classname=example["id"], time=_seconds(scenario.get("seconds")))
    outcome = scenario.get("outcome", "")
    message = xml_safe(scenario.get("message", ""))
    details = xml_safe(scenario.get("details", ""))
    if outcome == FAILED:
        result = Failure(message or "failed", "failed")
        result.text = details or message
        case.result = [result]
    elif outcome == XPASSED:
        result = Failure(message or "known failure passed", "xpassed")
        result.text = message
        case.result = [result]
    elif outcome == XFAILED:
        text = message if message.startswith("known failure") else f"known failure: {message}"
        result = Skipped(text, "xfailed")
        if details:
            result.text = details
        case.result = [result]
    elif outcome == NOT_APPLICABLE:
        case.result = [Skipped(message or "not applicable", "not_applicable")]
    elif outcome == SKIPPED:
        case.result = [Skipped(message or "skipped", "not_declared")]
    elif outcome != PASSED:
        result = Error(message or f"unknown outcome {outcome!r}", outcome or "unknown")
        result.text = details
        case.result = [result]
    if scenario.get("stdout"):
        case.system_out = xml_safe(scenario["stdout"])
    if scenario.get("stderr"):
        case.system_err = xml_safe(scenario["stderr"])
    return case


def testsuite(run: dict[str, Any], example: dict[str, Any], timestamp: str) -> TestSuite:
    suite = TestSuite(example["id"])
    suite.timestamp = timestamp
    suite.hostname = socket.gethostname()
    build = example.get("build") or {}
    for name, value in (("language", example.get("language", "")), ("driver", example.get("driver", "")),
                        ("outcome", example.get("outcome", "")), ("reason", example.get("reason", "")),
                        ("postgres", run.get("postgres", "")), ("backend", run.get("backend", "")),
                        ("build_seconds", build.get("seconds", "")), ("build_cached", build.get("cached", ""))):
        suite.add_property(name, xml_safe(str(value)))
    cases = [testcase(example, s) for s in example.get("scenarios", [])]
    if not cases:
        # A suite without testcases reads as "nothing ran" in most CI views: say why.
        case = TestCase(name="(example)", classname=example["id"], time=0.0)
        reason = xml_safe(example.get("reason", "")) or "no scenario of this example was selected"
        case.result = [Failure(reason, "failed") if example.get("outcome") == FAILED else Skipped(reason, "skipped")]
        cases = [case]
    suite.add_testcases(cases)
    return suite


def errors_suite(run: dict[str, Any], timestamp: str) -> TestSuite | None:
    if not run.get("errors"):
        return None
    suite = TestSuite("harness")
    suite.timestamp = timestamp
    suite.hostname = socket.gethostname()
    cases = []
    for number, error in enumerate(run["errors"], 1):
        case = TestCase(name=f"run error {number}", classname="harness", time=0.0)
        result = Error(xml_safe(error.splitlines()[0] if error else "error"), "run_error")
        result.text = xml_safe(error)
        case.result = [result]
        cases.append(case)
    suite.add_testcases(cases)
    return suite


def _finish(root: JUnitXml) -> None:
    root.update_statistics()
    # <testsuites> has no `skipped` attribute in the Jenkins/Ant schema (each <testsuite> has it).
    root._elem.attrib.pop("skipped", None)


def write_junit(run: dict[str, Any], reports_dir: Path, timestamp: str) -> list[Path]:
    out = reports_dir / JUNIT_DIR
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.xml"):
        stale.unlink()  # a report of examples this run did not run would mislead
    written = []
    merged = JUnitXml("pg-sample-harness")
    for example in run.get("examples", []):
        suite = testsuite(run, example, timestamp)
        single = JUnitXml(example["id"])
        single.add_testsuite(suite)
        _finish(single)
        path = out / f"{file_stem(example['id'])}.xml"
        single.write(str(path), pretty=True)
        written.append(path)
        merged.add_testsuite(testsuite(run, example, timestamp))
    errors = errors_suite(run, timestamp)
    if errors is not None:
        merged.add_testsuite(errors)
    _finish(merged)
    path = out / MERGED
    merged.write(str(path), pretty=True)
    written.append(path)
    return written
