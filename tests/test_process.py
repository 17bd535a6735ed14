"""harness.process.run_process: the group kill on timeout, bounded capture, the JSON Lines
parsing and the checkpoint round trip, with tiny Python scripts (no server)."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import process
from harness.process import MAX_STDOUT_BYTES, STDERR_TAIL_BYTES, run_process
from tests.support import dies_within


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    # sh (the group leader) starts a background child in its group and waits forever.
    start = time.monotonic()
    run = run_process("sleep 3600 & echo $! >&2; wait", tmp_path, os.environ, timeout=1.0)
    assert run.timed_out
    assert 1.0 <= time.monotonic() - start < 1.0 + process.KILL_GRACE_SECONDS + 1
    assert run.exit_code == -15  # SIGTERM was enough
    child = int(run.stderr.strip())
    assert dies_within(child), f"child {child} of the timed-out command still runs"


def test_a_process_that_ignores_sigterm_gets_sigkill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "KILL_GRACE_SECONDS", 0.3)
    # The ignored SIGTERM is inherited by the child: only SIGKILL ends either of them.
    start = time.monotonic()
    run = run_process("trap '' TERM; sleep 3600 & echo $! >&2; wait", tmp_path, os.environ, timeout=0.5)
    assert run.timed_out
    assert run.exit_code == -9
    assert time.monotonic() - start < 3
    assert dies_within(int(run.stderr.strip()))


def test_stdout_is_capped_at_one_mebibyte_and_the_writer_never_blocks(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import sys
        line = '{"type": "progress"}\\n'
        sys.stdout.write(line * (3 * 1024 * 1024 // len(line)))
        sys.stdout.flush()
        sys.stderr.write("e" * 200_000 + "END")
    """)
    run = run_process(argv, tmp_path, os.environ, timeout=20)
    assert not run.timed_out and run.exit_code == 0
    assert run.stdout_truncated
    assert len(run.stdout.encode()) == MAX_STDOUT_BYTES
    assert run.partial_line == ""  # whole lines only: the cut is the harness's, not a half line
    assert run.bad_lines == []
    assert len(run.stderr) == STDERR_TAIL_BYTES and run.stderr.endswith("END")


def test_a_last_chunk_that_crosses_the_cap_is_flagged(tmp_path: Path) -> None:
    # The reader takes in all but 10 bytes of the cap; then one short write crosses it and ends
    # the output: the cut must still show as truncation.
    argv = script(tmp_path, f"""
        import sys, time
        sys.stdout.write("x" * {MAX_STDOUT_BYTES - 11} + "\\n")
        sys.stdout.flush()
        time.sleep(0.3)
        sys.stdout.write('{{"type": "result", "scenario": "s", "data": {{}}}}\\n')
    """)
    run = run_process(argv, tmp_path, os.environ, timeout=20)
    assert run.exit_code == 0
    assert run.stdout_truncated
    assert len(run.stdout.encode()) == MAX_STDOUT_BYTES


def test_output_under_the_cap_is_kept_whole(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import json
        for i in range(1000):
            print(json.dumps({"type": "progress", "i": i}))
        print(json.dumps({"type": "result", "scenario": "s", "data": {"n": 1}}))
    """)
    run = run_process(argv, tmp_path, os.environ, timeout=20)
    assert not run.stdout_truncated
    assert len(run.messages) == 1001
    assert run.results == [{"type": "result", "scenario": "s", "data": {"n": 1}}]


def test_json_lines_parsing(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import sys
        print("hello, human")
        print("[1, 2]")
        print("")
        print('{"type": "result", "scenario": "s", "data": {"name": "Zoë 🐘"}}')
        sys.stdout.write('{"type": "res')
    """)
    run = run_process(argv, tmp_path, os.environ, timeout=20)
    assert run.bad_lines == ["hello, human", "[1, 2]"]  # a JSON array is not an object
    assert run.results == [{"type": "result", "scenario": "s", "data": {"name": "Zoë 🐘"}}]
    assert run.partial_line == '{"type": "res'
    assert not run.stdout_truncated


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import json, sys
        seen = []
        for name in ("first", "second"):
            print(json.dumps({"type": "checkpoint", "name": name}), flush=True)
            seen.append(json.loads(sys.stdin.readline()))
        print(json.dumps({"type": "result", "scenario": "s", "data": {"seen": seen}}), flush=True)
    """)
    calls: list[str] = []
    run = run_process(argv, tmp_path, os.environ, timeout=20, on_checkpoint=calls.append)
    assert calls == ["first", "second"]
    assert run.exit_code == 0 and run.checkpoint_error == ""
    assert run.results[0]["data"]["seen"] == [{"type": "continue", "name": "first"},
                                              {"type": "continue", "name": "second"}]


def test_a_failing_checkpoint_action_is_reported_and_the_example_goes_on(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import json, sys
        print(json.dumps({"type": "checkpoint", "name": "between"}), flush=True)
        reply = json.loads(sys.stdin.readline())
        print(json.dumps({"type": "result", "scenario": "s", "data": reply}), flush=True)
    """)

    def action(name: str) -> None:
        raise RuntimeError("server restart failed")

    run = run_process(argv, tmp_path, os.environ, timeout=20, on_checkpoint=action)
    assert run.checkpoint_error == "harness action at checkpoint 'between' failed: server restart failed"
    assert run.results[0]["data"] == {"type": "continue", "name": "between"}


def test_a_string_command_runs_in_a_shell_in_cwd(tmp_path: Path) -> None:
    run = run_process('echo "{\\"cwd\\": \\"$(pwd)\\"}"; exit 3', tmp_path, os.environ, timeout=20)
    assert run.argv[:2] == ["sh", "-c"]
    assert run.messages == [{"cwd": str(tmp_path)}]
    assert run.exit_code == 3


def test_a_missing_program_is_a_start_error(tmp_path: Path) -> None:
    run = run_process(["./definitely-not-here"], tmp_path, os.environ, timeout=20)
    assert run.start_error.startswith("could not start './definitely-not-here': ")
    assert run.exit_code is None


def test_a_signal_death_has_a_negative_exit_code(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = run_process(argv, tmp_path, os.environ, timeout=20)
    assert run.exit_code == -9 and not run.timed_out


def test_the_environment_is_passed_as_given(tmp_path: Path) -> None:
    argv = script(tmp_path, """
        import json, os
        print(json.dumps({"value": os.environ.get("ONLY_THIS"), "home": os.environ.get("HOME")}))
    """)
    run = run_process(argv, tmp_path, {"ONLY_THIS": "ä"}, timeout=20)
    assert run.messages == [{"value": "ä", "home": None}]
