"""Expectations name the status they expect: a known divergence that starts raising is noticed, not absorbed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FAULTS

from conformance.engine.expectations import load_expectations, parse_expectations
from conformance.engine.runner import pytest_args
from conformance.engine.versions import flax_version

PROP = "05-fw-bare-array-is-not-state"


def test_an_entry_must_say_failed_or_error():
    with pytest.raises(ValueError, match=r"lacks \['status'\]"):
        parse_expectations('[[divergence]]\nproperty = "x"\nflax = ">=1"\nreason = "r"\n')
    with pytest.raises(ValueError, match="status must be one of failed, error, not 'timeout'"):
        parse_expectations('[[divergence]]\nproperty = "x"\nflax = ">=1"\nstatus = "timeout"\nreason = "r"\n')
    assert {d.status for d in load_expectations()} == {"failed", "error"}


def test_a_dev_build_falls_inside_a_range_like_a_release():
    (entry,) = parse_expectations(
        '[[divergence]]\nproperty = "x"\nflax = ">=0.12.1"\nstatus = "failed"\nreason = "r"\n'
    )
    assert entry.applies_to("0.13.0.dev20260101") and entry.applies_to("0.12.8+g1a2b3c4")
    assert not entry.applies_to("0.12.0")


def _run(tmp_path, *extra: str) -> dict:
    report = tmp_path / "report.json"
    args = pytest_args(impls=[], profile="ci", json_path=report, workers=0, only=[PROP], kind="framework")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", *extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(FAULTS)},
        timeout=300,
    )
    (result,) = json.loads(report.read_text())["results"]
    return {**result, "stdout": done.stdout}


def test_a_divergence_listed_as_failed_that_raises_is_an_error(tmp_path):
    """(The divergence as listed, expected_divergence with diverged_as failed, is checked by
    tests/test_local_builds.py on every column of its matrix.)"""
    (listed,) = [d for d in load_expectations() if d.property == PROP and d.applies_to(flax_version())]
    assert listed.status == "failed", "this test patches a release where the divergence is a failure"
    raising = _run(tmp_path, "--flax-mutant", "flax_state_raises")
    assert raising["status"] == "error", raising["message"]
    assert (
        "properties/expectations.toml expects failed (>=0.10.5), but the property ended error" in (raising["message"])
    )
    assert "ValueError: nnx.state refuses every module" in raising["message"]
