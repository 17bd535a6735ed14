#!/usr/bin/env python3
"""Where the matrix's time goes, from one invocation, side by side:

  cold (every example built from scratch: see COLD) and warm (builds cached); serial (-j 1) and
  the harness's default parallelism; native and docker; a bare run (every case's process started
  directly, with the case's own environment and database but no harness check around it: no
  namespace, no sampler, no log reading, checkpoints answered at once), so the harness's cost
  shows as a ratio; and the critical path (the longest chain that cannot be parallelised) against
  the default run.

Figures vary on a shared machine: every warm figure is the median of --repeat runs (3 unless
told). Writes reports/benchmark.json; the HTML report shows it (harness.reporting.benchmark).

  .venv/bin/python ci/benchmark.py                       native and docker, median of three
  .venv/bin/python ci/benchmark.py --backend native --repeat 1 --no-cold   a quick look
  .venv/bin/python ci/benchmark.py --judge-again           the goals again, with the test command's
                                                           latest figure (bash ci/test.sh records it)"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.admin_connections import CONSOLE_CONNECTIONS  # noqa: E402
from harness.backends import REGISTRY  # noqa: E402
from harness.build import folder_lock  # noqa: E402
from harness.case.environment import case_environment  # noqa: E402
from harness.case.context import CaseContext  # noqa: E402
from harness.config import build_config  # noqa: E402
from harness.outcome import Outcome, RunResult  # noqa: E402
from harness.process import run_process  # noqa: E402
from harness.reporting.html import write_html  # noqa: E402
from harness.reporting.view import run_time  # noqa: E402
from harness.runner import Selection, planned_cases, run_matrix  # noqa: E402
from harness.scenarios import REGISTRY as CHECKS  # noqa: E402
from harness import case_costs  # noqa: E402
from harness.schedule import cores, cpu_weights, default_jobs  # noqa: E402
from harness.server.base import ServerSettings  # noqa: E402
from harness.session import HarnessSession  # noqa: E402

# What the cold run starts from, said in the output beside its figures.
COLD = {"native": "every example's declared build outputs (.venv, node_modules, target, build) deleted, then "
                  "built with --rebuild",
        "docker": "every example image built with --rebuild, which builds with no layer cache (the base images "
                  "stay: they stand for pulled ones)"}
GOAL_WARM_DEFAULT_S = 45.0
GOAL_SERIAL_OVERHEAD = 1.10
GOAL_DOCKER_OVER_NATIVE = 1.2
GOAL_DEFAULT_OVER_FLOOR = 1.2   # the default run's wall / (the examples' own process seconds / cores)
DOCKER_LOCK = Path("/tmp/harness-docker.lock")   # one docker user of the shared engine at a time
GOAL_TEST_COMMAND_S = 180.0
# A wait a driver imposes: an example that reports using a longer idle timeout than the scenario
# asked for (a floor of its pool; its example.yaml says why it cannot be shortened).
IDLE_ASKED_MS = 1000


SELECTION = Selection()
# Each run's results.json, so that the next default run lays its lanes out from measured case times.
RUN_RESULTS = Path("reports/benchmark-run/results.json")


def config(backend: str, rebuild: bool = False):  # type: ignore[no-untyped-def]
    return build_config({"backend": backend, "rebuild": rebuild, "out": str(RUN_RESULTS)})


def remove_build_outputs(backend: str) -> None:
    """A native --rebuild runs each build command over its previous outputs (incremental where the
    tool is: CMake, pip); a cold run starts without them. The image builds need nothing removed."""
    if backend != "native":
        return
    for example, _names in planned_cases(HarnessSession(config(backend)).catalog, SELECTION):
        with folder_lock(example.folder):
            for output in example.build_outputs:
                shutil.rmtree(example.folder / output, ignore_errors=True)


def timed_run(backend: str, rebuild: bool, jobs: int) -> dict[str, Any]:
    if rebuild:
        remove_build_outputs(backend)
    start = time.monotonic()
    console_before = CONSOLE_CONNECTIONS.logins
    with HarnessSession(config(backend, rebuild)) as session:
        run = run_matrix(session, planned_cases(session.catalog, SELECTION), jobs=jobs)
        wall = time.monotonic() - start
        logins = superuser_logins(session)
    RUN_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RUN_RESULTS.write_text(json.dumps(run.to_json()))
    out = figures(wall, run, jobs)
    out["superuser_logins"] = logins
    out["superuser_logins_per_case"] = round(logins / out["cases"], 2) if out["cases"] else 0.0
    out["console_logins"] = CONSOLE_CONNECTIONS.logins - console_before
    return out


def superuser_logins(session: HarnessSession) -> int:
    """The superuser's logins the server logged during the run (its connection log): the session's
    first, the kept admin connections, and a check's look into a case database."""
    if session.server_log is None:
        return 0
    superuser = ServerSettings().superuser
    return sum(1 for r in session.server_log.read_through(0)
               if r.user == superuser and r.message.startswith("connection authorized"))


def figures(wall: float, run: RunResult, jobs: int) -> dict[str, Any]:
    cases = [(e, s) for e in run.examples for s in e.scenarios if s.outcome is not Outcome.NOT_APPLICABLE]
    process = sum(float(s.observed.get("process_seconds", 0)) for _, s in cases)
    builds = sum(e.build_seconds for e in run.examples)
    waits = {f"{e.id}::{s.name}": f"the pool's idle-timeout floor: {s.observed['idle_timeout_ms']} ms instead of "
             f"{IDLE_ASKED_MS} ms (no documented setting lowers it: see the example's example.yaml)"
             for e, s in cases if float(s.observed.get("idle_timeout_ms") or 0) > IDLE_ASKED_MS}
    return {"jobs": jobs, "wall_s": round(wall, 1), "inherent_waits": waits, "builds_s": round(builds, 1), "processes_s": round(process, 1),
            "cases_s": round(sum(s.seconds for _, s in cases), 1), "cases": len(cases),
            "failed": sum(1 for _, s in cases if s.outcome.is_bad),
            "overhead_ratio": round((wall - builds) / process, 2) if process else 0.0,
            "build_seconds": {e.id: round(e.build_seconds, 1) for e in run.examples if not e.build_cached},
            "verdicts": {f"{e.id}::{s.name}": s.outcome.value for e, s in cases},
            "case_seconds": {f"{e.id}::{s.name}": round(s.seconds, 2) for e, s in cases},
            "case_ends": {f"{e.id}::{s.name}": round(s.started + s.seconds, 2) for e, s in cases if s.started is not None},
            "cpu_s": round(sum(float(s.observed.get("process_cpu_seconds") or 0) for _, s in cases), 1)}


def bare_run(backend: str) -> dict[str, Any]:
    """Each applicable case's process, one after another, as the harness would start it (same
    environment, a fresh case database) but with nothing of the harness around it."""
    total, per_case = 0.0, {}
    with HarnessSession(config(backend)) as session:
        assert session.server is not None and session.janitor is not None
        for example, names in planned_cases(session.catalog, SELECTION):
            session.prepare_example(example)
            build = session.builds.get(example.id)
            if build is None or not build.ok:
                continue
            for name in names:
                if name not in example.applies or name not in CHECKS:
                    continue
                scenario = session.spec.scenarios[name]
                db = session.janitor.create_case_database(example.id, name)
                check = CHECKS[name](CaseContext(example=example, scenario=scenario, spec=session.spec, db=db,
                                                 controls=None))  # type: ignore[arg-type]
                env = case_environment(session.config.environ, session.server.endpoint, example,
                                       replace(scenario, params=check.run_params()), db)
                launch = session.executor.launch(example, env, f"{example.id}::{name}")
                start = time.monotonic()
                run_process(launch.command, launch.cwd, launch.env, example.run_timeout or scenario.timeout_seconds)
                seconds = time.monotonic() - start
                session.executor.after_case(f"{example.id}::{name}")
                session.janitor.close_leftover_backends(db.role, within=0)
                session.janitor.drop_case_database(db)
                per_case[f"{example.id}::{name}"] = round(seconds, 2)
                total += seconds
    return {"wall_s": round(total, 1), "cases": len(per_case), "case_seconds": per_case}


def critical_path(case_seconds: dict[str, float], backend: str, waits: dict[str, str],
                  case_ends: dict[str, float]) -> dict[str, Any]:
    """The lower bound on a run's wall time on this machine: the longest case (it cannot be split),
    or the cases that restart the server (they run alone) plus the CPU the others need, shared out
    over the cores (each case's weight, as the gate weighs it, times its seconds)."""
    session = HarnessSession(config(backend))   # no server: the catalog and the cache only
    declared = {s.name: s.cpu_cores for s in session.spec.scenarios.values()}
    weights = cpu_weights(case_costs.of_run(session.config.paths.cache, session.config.paths.examples, backend), declared)
    exclusive = [k for k in case_seconds if k.split("::")[1] in CHECKS and CHECKS[k.split("::")[1]].exclusive]
    longest = max(case_seconds, key=case_seconds.__getitem__)
    cpu_work = sum(weights.get(k, 1.0) * s for k, s in case_seconds.items() if k not in exclusive) / cores()
    exclusive_s = sum(case_seconds[k] for k in exclusive)
    bound = max(case_seconds[longest], exclusive_s + cpu_work)
    return {"longest_case": longest, "longest_case_s": round(case_seconds[longest], 1),
            "exclusive_s": round(exclusive_s, 1), "cpu_work_per_core_s": round(cpu_work, 1), "bound_s": round(bound, 1),
            # A wait sits on the critical path when the matrix ended with it.
            "waits_on_path": [k for k in waits if case_ends.get(k, 0.0) >= max(case_ends.values(), default=0.0) - 1.0]}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, with every run's wall kept beside it."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["walls_s"] = [r["wall_s"] for r in runs]
    chosen["median_of"] = len(runs)
    chosen["same_verdicts_every_run"] = all(r["verdicts"] == runs[0]["verdicts"] for r in runs)
    return chosen


def one_backend(backend: str, repeat: int, cold: bool, jobs: int, serial_repeat: int, bare: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cold:
        out["cold_default"] = timed_run(backend, rebuild=True, jobs=jobs)
        out["cold_default"]["cold_means"] = COLD[backend]
    if serial_repeat:
        out["warm_serial"] = median_run([timed_run(backend, False, 1) for _ in range(serial_repeat)])
    out["warm_default"] = median_run([timed_run(backend, False, jobs) for _ in range(repeat)])
    if bare:
        out["bare"] = bare_run(backend)
    default = out["warm_default"]
    out["critical_path"] = critical_path(default["case_seconds"], backend, default["inherent_waits"],
                                         default["case_ends"])
    out["floor"] = floor_figures(default)
    if "warm_serial" in out:
        serial = out["warm_serial"]
        out["verdicts_identical_serial_vs_default"] = serial["verdicts"] == default["verdicts"]
        if "bare" in out and out["bare"]["wall_s"]:
            out["harness_over_bare"] = round((serial["wall_s"] - serial["builds_s"]) / out["bare"]["wall_s"], 2)
    return out


def floor_figures(default: dict[str, Any]) -> dict[str, Any]:
    """The floor (the examples' own process seconds, summed), the floor over the cores, the
    default run's wall over that, and what one more driver would add: its cases (the mean
    example's) x (the mean process seconds + the harness's seconds a case beyond its process)."""
    n_cores = cores()
    cases, process = default["cases"], default["processes_s"]
    per_core = process / n_cores
    examples = max(1, len({k.split("::")[0] for k in default["case_seconds"]}))
    mean_process = process / cases if cases else 0.0
    overhead = (default["cases_s"] - process) / cases if cases else 0.0
    driver_cases = cases / examples
    driver_s = driver_cases * (mean_process + overhead)
    # Process wall includes the examples' own waits (timeouts, sleeps), which overlap beyond the
    # cores; their CPU cannot, so CPU / cores is the floor no scheduling can beat.
    cpu_per_core = default["cpu_s"] / n_cores
    return {"floor_s": round(process, 1), "process_cpu_s": default["cpu_s"], "cores": n_cores, "floor_per_core_s": round(per_core, 1),
            "cpu_floor_per_core_s": round(cpu_per_core, 1),
            "default_over_cpu_floor_per_core": round(default["wall_s"] / cpu_per_core, 2) if cpu_per_core else 0.0,
            "default_over_floor_per_core": round(default["wall_s"] / per_core, 2) if per_core else 0.0,
            "harness_s_per_case": round(overhead, 2), "mean_process_s": round(mean_process, 2),
            "one_more_driver": {"cases": round(driver_cases, 1), "case_s": round(driver_s, 1),
                                "wall_s_on_these_cores": round(driver_s / n_cores, 1)}}


@contextlib.contextmanager
def docker_turn(backend: str):  # type: ignore[no-untyped-def]
    """The docker part holds the machine's docker lock (other runs share one engine), as
    `flock /tmp/harness-docker.lock` does; the native part needs none."""
    if backend != "docker":
        yield
        return
    with DOCKER_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {cores()} cores, {platform.system()} {platform.release()}, load average {load} at the end"


def goals(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(goal, met, figure or why not)."""
    rows = []
    native = result["backends"].get("native")
    docker = result["backends"].get("docker")
    if native:
        d, cp = native["warm_default"], native["critical_path"]
        rows.append((f"native warm default run <= {GOAL_WARM_DEFAULT_S:g} s", d["wall_s"] <= GOAL_WARM_DEFAULT_S,
                     f"{d['wall_s']} s with -j {d['jobs']}; bound on this machine {cp['bound_s']} s (restart cases "
                     f"alone {cp['exclusive_s']} s + CPU work per core {cp['cpu_work_per_core_s']} s; longest case "
                     f"{cp['longest_case_s']} s: {cp['longest_case']})"))
        if "floor" in native:
            f = native["floor"]
            rows.append((f"native warm default <= {GOAL_DEFAULT_OVER_FLOOR}x (floor / cores)",
                         f["default_over_floor_per_core"] <= GOAL_DEFAULT_OVER_FLOOR,
                         f"{f['default_over_floor_per_core']}x ({d['wall_s']} s vs {f['floor_s']} s / {f['cores']} = "
                         f"{f['floor_per_core_s']} s)"))
        if "warm_serial" in native:
            s = native["warm_serial"]
            rows.append((f"serial overhead (wall - builds) / processes <= {GOAL_SERIAL_OVERHEAD}",
                         s["overhead_ratio"] <= GOAL_SERIAL_OVERHEAD,
                         f"{s['overhead_ratio']}x; harness serial / bare processes: {native.get('harness_over_bare', '-')}x"))
        waits = d["inherent_waits"]
        rows.append(("long inherent waits off the critical path", not cp["waits_on_path"],
                     "; ".join(f"{k}: {why}" for k, why in waits.items()) or "none reported"))
    for name, data in result["backends"].items():
        if "warm_serial" not in data:
            continue
        rows.append((f"{name}: verdicts identical serial vs default", data["verdicts_identical_serial_vs_default"],
                     f"{data['warm_serial']['failed']} failed serial, {data['warm_default']['failed']} default"))
    if native and docker:
        ratio = docker["warm_default"]["wall_s"] / native["warm_default"]["wall_s"]
        rows.append((f"docker warm <= {GOAL_DOCKER_OVER_NATIVE}x native warm", ratio <= GOAL_DOCKER_OVER_NATIVE,
                     f"{ratio:.2f}x ({docker['warm_default']['wall_s']} s vs {native['warm_default']['wall_s']} s)"))
    rows.append(test_command_goal(result.get("test_command")))
    return rows


def test_command_goal(recorded: dict[str, Any] | None) -> tuple[str, bool, str]:
    """The test command's last run, as ci/test.sh recorded it (reports/test-command.json): it is
    minutes long, so the benchmark reads its figure instead of running it again."""
    goal = f"test command (bash ci/test.sh) <= {GOAL_TEST_COMMAND_S:g} s"
    if not recorded:
        return goal, False, "not measured: run `bash ci/test.sh` (it records reports/test-command.json), then this"
    bound = recorded["cpu_s"] / recorded["cores"]
    ok = recorded["exit"] == {"matrix": 0, "tests": 0}
    return goal, ok and recorded["wall_s"] <= GOAL_TEST_COMMAND_S, (
        f"{recorded['wall_s']} s on {recorded['finished']} (the matrix {recorded['matrix_s']} s, the harness's own "
        f"tests {recorded['tests_s']} s on {recorded['workers']} xdist workers){'' if ok else ', and it FAILED'}; "
        f"it used {recorded['cpu_s']:.0f} s of CPU: on {recorded['cores']} cores at least {bound:.0f} s, whatever the "
        "order of its tests")


def print_table(result: dict[str, Any]) -> None:
    print(f"benchmark on {result['machine']}; warm figures: median of {result['repeat']} (shared machine)")
    print(f"{'backend':<8}{'run':<14}{'jobs':>5}{'wall':>9}{'builds':>9}{'processes':>11}{'cases':>7}{'failed':>8}"
          "  overhead (wall-builds)/processes")
    for backend, data in result["backends"].items():
        print_floor(backend, data)
        for label in ("cold_default", "warm_serial", "warm_default"):
            if label in data:
                r = data[label]
                walls = f"  runs: {r['walls_s']}" if "walls_s" in r else ""
                print(f"{backend:<8}{label:<14}{r['jobs']:>5}{r['wall_s']:>8}s{r['builds_s']:>8}s{r['processes_s']:>10}s"
                      f"{r['cases']:>7}{r['failed']:>8}  {r['overhead_ratio']}x{walls}")
        if "cold_default" in data:
            builds = data["cold_default"]["build_seconds"]
            print(f"{backend:<8}cold means {COLD[backend]}; builds: "
                  + (", ".join(f"{k} {v} s" for k, v in sorted(builds.items(), key=lambda kv: -kv[1])) or "none"))
        cp = data["critical_path"]
        if "bare" in data:
            print(f"{backend:<8}{'bare':<14}{1:>5}{data['bare']['wall_s']:>8}s  (processes only, no harness; serial "
                  f"harness / bare = {data.get('harness_over_bare', '-')}x)")
        print(f"{backend:<8}critical path: bound {cp['bound_s']} s = max(longest case {cp['longest_case_s']} s, "
              f"restart cases alone {cp['exclusive_s']} s + CPU work per core {cp['cpu_work_per_core_s']} s); "
              f"the default run is {data['warm_default']['wall_s'] - cp['bound_s']:.1f} s above it")
    native, docker = result["backends"].get("native"), result["backends"].get("docker")
    if native and docker:
        print(f"docker / native (warm default, this run): {docker['warm_default']['wall_s']} s / "
              f"{native['warm_default']['wall_s']} s = {docker['warm_default']['wall_s'] / native['warm_default']['wall_s']:.2f}x")
    print("goals:")
    for goal, met, detail in result["goals"]:
        print(f"  [{'met' if met else 'NOT MET'}] {goal}: {detail}")


def print_floor(backend: str, data: dict[str, Any]) -> None:
    """The figures side by side: floor, floor / cores, the default run, their ratio, one more
    driver, the superuser's logins a case."""
    d, f = data["warm_default"], data.get("floor")
    if not f:
        return
    more = f["one_more_driver"]
    print(f"{backend:<8}floor (the examples' own process seconds) {f['floor_s']} s; / {f['cores']} cores = "
          f"{f['floor_per_core_s']} s; default run {d['wall_s']} s = {f['default_over_floor_per_core']}x (floor / cores); "
          f"the processes' CPU {f.get('process_cpu_s', '-')} s; / {f['cores']} cores = {f.get('cpu_floor_per_core_s', '-')} s, "
          f"default run = {f.get('default_over_cpu_floor_per_core', '-')}x that")
    print(f"{backend:<8}one more driver: {more['cases']} cases x ({f['mean_process_s']} s process + "
          f"{f['harness_s_per_case']} s harness a case) = {more['case_s']} s of cases, ~{more['wall_s_on_these_cores']} s "
          f"of wall on {f['cores']} cores; superuser logins {d.get('superuser_logins', '-')} "
          f"({d.get('superuser_logins_per_case', '-')} a case), PgBouncer console logins {d.get('console_logins', '-')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", action="append", choices=tuple(REGISTRY),
                        help="repeatable (default: native and docker)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per figure; the median is reported")
    parser.add_argument("--serial-repeat", type=int, default=None,
                        help="warm serial runs (default: --repeat; 0: none); each takes minutes, and serves the overhead ratio")
    parser.add_argument("--no-cold", action="store_true",
                        help="skip the cold run (every example built from scratch; docker: images with no layer cache)")
    parser.add_argument("--no-bare", action="store_true",
                        help="skip the bare run (every case's process alone, serially: as long as the floor)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="the default parallelism (the harness's)")
    parser.add_argument("--example", action="append", default=[], help="only these examples (a quick look)")
    parser.add_argument("--out", type=Path, default=Path("reports/benchmark.json"))
    parser.add_argument("--judge-again", action="store_true",
                        help="run nothing: judge the figures in --out again, with the test command's latest "
                             "(bash ci/test.sh records reports/test-command.json)")
    args = parser.parse_args()
    global SELECTION
    SELECTION = Selection(examples=tuple(args.example))
    started = time.time()
    result: dict[str, Any] = {"repeat": args.repeat, "backends": {}}
    if args.judge_again:
        result = json.loads(args.out.read_text())
    else:
        for backend in args.backend or ["native", "docker"]:
            with docker_turn(backend):
                serial = args.repeat if args.serial_repeat is None else args.serial_repeat
                result["backends"][backend] = one_backend(backend, args.repeat, not args.no_cold, args.jobs,
                                                          serial, bare=not args.no_bare)
        result["machine"] = machine()
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    recorded = args.out.parent / "test-command.json"
    result["test_command"] = json.loads(recorded.read_text()) if recorded.exists() else None
    result["goals"] = goals(result)
    print_table(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.out}")
    results = args.out.parent / "results.json"
    if results.exists():   # the HTML report beside it shows the figures too
        run_json = json.loads(results.read_text())
        print(f"written: {write_html(run_json, args.out.parent, run_time(run_json))}")
    return 0 if all(met for _, met, _ in result["goals"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
