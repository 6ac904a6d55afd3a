"""Faulty implementations get a clear verdict each, and the rest of the run still completes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from conftest import FAULTS, read, run_cli

PROPERTY = "05-forward-matches-recipe"
OTHER = "01-fw-inline-dense-not-shared"  # another document: runs on the other worker


def _run(fault: str, report_path, *extra: str):
    return run_cli(
        "run",
        "--impl",
        str(FAULTS / fault),
        "--only",
        PROPERTY,
        "--only",
        OTHER,
        "--profile",
        "dev",
        "--json",
        str(report_path),
        "--timeout",
        "5",
        "--workers",
        "1",
        *extra,
    )


def _status(report: dict, prop: str = PROPERTY) -> dict:
    [result] = [r for r in report["results"] if r["id"] == prop]
    return result


@pytest.mark.parametrize(
    "fault, status, words",
    [
        ("raises.py", "error", ["RuntimeError", "deliberate failure"]),
        ("returns_nan.py", "failed", ["NaN"]),
        ("wrong_shape.py", "failed", ["shape"]),
        ("wrong_dtype.py", "failed", ["dtype int32"]),
        ("returns_list.py", "failed", ["returned list"]),
        ("hangs.py", "timeout", ["--timeout 5"]),
        ("hangs_swallowing.py", "timeout", ["--timeout 5"]),
        ("exits.py", "crashed", ["died"]),
        ("segfaults.py", "crashed", ["died"]),
    ],
)
def test_fault_gets_its_verdict_and_the_run_completes(fault, status, words, report_path):
    proc = _run(fault, report_path)
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    report = read(report_path)
    assert not report["partial"]
    result = _status(report)
    assert result["status"] == status, result
    for w in words:
        assert w in result["message"], f"{w!r} not in {result['message']!r}"
    assert _status(report, OTHER)["status"] == "passed", "the other property did not run to completion"


def test_crash_does_not_stop_the_rest_of_its_group(report_path):
    # The document's properties run as one group on one worker; after the crash
    # the replacement worker runs the rest of the group, without the crashed one.
    proc = run_cli(
        "run",
        "--impl",
        str(FAULTS / "exits.py"),
        "--only",
        "05-*",
        "--profile",
        "dev",
        "--json",
        str(report_path),
        "--workers",
        "1",
        timeout=300,
    )
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    report = read(report_path)
    assert _status(report)["status"] == "crashed"
    assert _status(report, "05-fw-param-is-a-variable")["status"] == "passed", report["results"]


@pytest.mark.parametrize(
    "fault, where",
    [
        ("syntax_error.py", "syntax_error.py:4"),
        ("import_fails.py", "import_fails.py:3"),
        ("does_not_exist.py", "does_not_exist.py"),
    ],
)
def test_unloadable_module_is_one_line_and_exit_2(fault, where, report_path):
    proc = _run(fault, report_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert where in lines[0] and "Traceback" not in proc.stderr


def test_dotted_module_that_does_not_exist_is_exit_2():
    proc = run_cli("run", "--impl", "no.such.module")
    assert proc.returncode == 2 and "no module of that name" in proc.stderr and "Traceback" not in proc.stderr


def test_global_config_change_at_import_is_reported(report_path):
    proc = run_cli(
        "run",
        "--impl",
        str(FAULTS / "changes_config.py"),
        "--only",
        OTHER,
        "--json",
        str(report_path),
        "--workers",
        "0",
    )
    assert "jax_enable_x64" in proc.stdout, proc.stdout[-2000:]
    changes = read(report_path)["implementation"]["config_changes"]
    assert changes["jax_enable_x64"] == {"before": "False", "after": "True"}


def test_failure_message_names_property_section_inputs_tolerance_and_reproduce_command(report_path):
    proc = run_cli(
        "run",
        "--impl",
        "conformance.implementations.mutants.m05_scale_by_in",
        "--only",
        PROPERTY,
        "--profile",
        "ci",
        "--json",
        str(report_path),
        "--workers",
        "0",
    )
    assert proc.returncode == 1
    result = _status(read(report_path))
    message = result["message"]
    for part in (
        PROPERTY,
        "document 05",
        "section 'Problem'",
        "inputs (shrunk):",
        "expected",
        "actual",
        "tolerance:",
        "reproduce: conformance run --impl conformance.implementations.mutants.m05_scale_by_in",
    ):
        assert part in message, f"{part!r} missing from:\n{message}"
    # The reproduce command replays exactly that input and fails the same way.
    again = run_cli(
        *shlex.split(result["reproduce"].removeprefix("conformance ")),
        "--json",
        str(report_path.with_name("again.json")),
        "--workers",
        "0",
    )
    assert again.returncode == 1
    replayed = _status(read(report_path.with_name("again.json")))
    assert replayed["status"] == "failed" and replayed["examples"] == 1


def test_interrupted_run_leaves_a_valid_partial_report(report_path):
    import json
    import signal
    import subprocess
    import sys
    import time

    from conftest import REPO

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--impl",
            str(FAULTS / "hangs.py"),
            "--only",
            PROPERTY,
            "--only",
            OTHER,
            "--timeout",
            "300",
            "--json",
            str(report_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 300
    # Wait until the other property has finished: the hang is then the only thing running.
    while time.time() < deadline:
        if report_path.exists() and any(r["id"] == OTHER for r in json.loads(report_path.read_text())["results"]):
            break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"{OTHER} did not finish within 300 s:\n{proc.communicate()[1][-2000:]}")
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not end within 120 s of SIGINT; it printed:\n{proc.communicate()[1][-3000:]}")
    assert proc.returncode == 130, err[-2000:]
    report = read(report_path)
    assert report["partial"] is True
    assert [r["status"] for r in report["results"] if r["id"] == OTHER] == ["passed"]


def test_repro_dir_writes_a_script_that_replays_the_failure(tmp_path, report_path):
    import subprocess
    import sys

    proc = run_cli(
        "run",
        "--impl",
        "conformance.implementations.mutants.m05_bias_ones",
        "--only",
        PROPERTY,
        "--profile",
        "ci",
        "--json",
        str(report_path),
        "--repro-dir",
        str(tmp_path / "repro"),
        "--workers",
        "0",
    )
    assert proc.returncode == 1
    [script] = list((tmp_path / "repro").glob("*.py"))
    replay = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert replay.returncode != 0 and "AssertionError" in replay.stderr and "differs from the oracle" in replay.stderr


def test_a_failure_found_before_time_runs_out_is_reported_as_failed(report_path):
    # Every call sleeps, so shrinking the failure cannot finish within its budget (half of --timeout):
    # the verdict is the failure, with the smallest input found so far and a command that replays it.
    proc = run_cli(
        "run",
        "--impl",
        str(FAULTS / "slow_and_wrong.py"),
        "--only",
        PROPERTY,
        "--profile",
        "ci",
        "--timeout",
        "8",
        "--json",
        str(report_path),
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    result = _status(read(report_path))
    assert result["status"] == "failed", result
    assert "shrinking was stopped" in result["message"] and result["inputs"]["seed"] % 2 == 1, result["message"]
    replay = run_cli(*shlex.split(result["reproduce"])[1:], "--json", str(report_path.with_name("replay.json")))
    assert replay.returncode == 1 and _status(read(report_path.with_name("replay.json")))["status"] == "failed"


def test_an_interrupt_ends_the_run_even_when_stopping_it_hangs():
    """Past the grace after SIGINT, the run ends its workers and itself, whatever kept it from stopping."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import subprocess, sys, time\n"
        "from conformance.engine import runner\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(child.pid, flush=True)\n"
        "with runner._ends_after_interrupt(grace=2):\n"
        "    try:\n"
        "        time.sleep(600)\n"
        "    except KeyboardInterrupt:\n"
        "        time.sleep(600)  # stopping hangs, as a stuck worker makes it\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "did not stop within 2 s" in err, (proc.returncode, err)
    time.sleep(0.5)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2], (
        "the worker outlived the run"
    )
