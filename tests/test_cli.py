"""The command line: one flag takes several ids, and bad input is one line with exit 2."""

from __future__ import annotations

from conftest import run_cli

from conformance.commands.cli import _parser


def test_only_takes_several_ids_after_one_flag_and_repeats():
    args = _parser().parse_args(["run", "--only", "01-a", "02-*", "--only", "03-c"])
    assert args.only == ["01-a", "02-*", "03-c"], args.only


def test_an_only_pattern_that_selects_nothing_is_a_usage_error():
    proc = run_cli("run", "--only", "05-forward-matches-recipe", "09-*", timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "unknown property id(s): 09-*" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
