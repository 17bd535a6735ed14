"""Words for how an example ran: what a timeout reached, which part of stderr a person needs,
and which known reports to cite. Each is a small function of the run and the scenario's check,
so that a failure names the bug rather than the symptom."""

from __future__ import annotations

from typing import Any

from harness.process import ProcessRun

STDERR_HEAD_LINES = 8
STDERR_TAIL_LINES = 25
KEPT_STDERR_CHARS = 8000
KEPT_STDERR_HEAD_CHARS = 2000


def _complete(run: ProcessRun) -> bool:
    """True when `run.stderr` holds everything the example wrote there."""
    return run.stderr_bytes <= len(run.stderr.encode("utf-8", errors="replace"))


def stderr_excerpt(run: ProcessRun, head: int = STDERR_HEAD_LINES, tail: int = STDERR_TAIL_LINES) -> str:
    """The first and the last lines of stderr: a crash's cause is often at the top (Node prints
    "Unhandled 'error' event" above a dump of the error object), its stack at the bottom."""
    if _complete(run):
        lines = run.stderr.rstrip().splitlines()
        if len(lines) <= head + tail:
            return "\n".join(lines)
        return "\n".join([*lines[:head], f"[... {len(lines) - head - tail} lines left out ...]", *lines[-tail:]])
    first = run.stderr_head.splitlines()[:head]
    last = run.stderr.rstrip().splitlines()[-tail:]
    return "\n".join([*first, f"[... {run.stderr_bytes:,} bytes in all; the middle is left out ...]", *last])


def kept_stderr(run: ProcessRun, limit: int = KEPT_STDERR_CHARS) -> str:
    """What results.json keeps of stderr: all of it when short, else its start and its end."""
    if _complete(run) and len(run.stderr) <= limit:
        return run.stderr
    start = (run.stderr_head or run.stderr)[:KEPT_STDERR_HEAD_CHARS]
    end = run.stderr[-(limit - KEPT_STDERR_HEAD_CHARS):]
    return f"{start}\n[... the middle of stderr is left out ...]\n{end}"


def citation(check: Any, driver_name: str) -> str:
    """A known report of this failure for this driver only (driver.name in example.yaml), and only
    when what was observed is what the report describes (the check's `citation_applies()`)."""
    applies = getattr(check, "citation_applies", None)
    if applies is not None and not applies():
        return ""
    return dict(getattr(check, "citations", {}) or {}).get(driver_name, "")


def checkpoints_reached(run: ProcessRun) -> list[str]:
    return [str(m.get("name", "")) for m in run.messages if m.get("type") == "checkpoint"]


def timeout_problem(run: ProcessRun, timeout: float, check: Any, driver_name: str) -> str:
    """A hang before any result, named by the last checkpoint reached and the next one expected,
    is a different bug from a program that printed its result and then did not exit."""
    if run.results:
        return (f"printed its result, then did not exit within {timeout:.0f} s (its process group was killed): "
                "something still open keeps it alive (a connection, client or pool never closed, a timer, a thread)")
    message = f"timed out after {timeout:.0f} s; its process group was killed"
    expected: tuple[str, ...] = tuple(getattr(check, "checkpoints", ()) or ())
    reached = checkpoints_reached(run)
    missing = [name for name in expected if name not in reached]
    hints: dict[str, str] = dict(getattr(check, "stuck_hints", {}) or {})
    if missing:
        where = f"reached {reached[-1]}, never {missing[0]}" if reached else f"never reached checkpoint {missing[0]}"
        hint = hints.get(missing[0], "")
        message += f": {where}" + (f": {hint}" if hint else "")
    elif expected:
        hint = hints.get("result", "")
        message += f": reached {expected[-1]}, the last checkpoint, then printed no result" + (f": {hint}" if hint else "")
    hint = getattr(check, "timeout_hint", "")
    if hint:
        message += f": {hint}"
    cited = citation(check, driver_name)
    if cited:
        message += f" ({cited})"
    return message
