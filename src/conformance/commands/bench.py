"""`make bench`: how fast the default run is, measured, printed as one JSON line at the end.

Figures (see the README's Performance section):
- wall_s: `conformance run` on the reference, every property at 100 examples,
  2 workers, a cold process and no persistent compilation cache.
- compiles: XLA compilations in all processes of that run, counted with
  jax.monitoring's compile-duration events (less persistent-cache hits, which
  JAX reports as compilations too).
- overhead_ratio: over the implementation properties, the time each property
  took divided by the time spent inside the implementation's own calls.
- naive_speedup: a subset of properties run by a naive harness (sizes drawn
  freely, so nearly every example compiles) against the same subset with the
  shape pools, same example count, one process each: the time the properties
  themselves took (the sum of their durations in each run's report), so the
  start-up both processes share (importing JAX and Flax, collecting) is left
  out. naive_speedup_wall is the same ratio with start-up in.
- parallel_speedup: the default run's wall time at 1 worker over 2 workers.
- warm_wall_s: the default run again with --compilation-cache pointing at a
  cache the run before it filled (a separate figure: wall_s is always cold).
- wall_ratio_vs_small_pools: wall_s over the same run drawing the pools of
  earlier releases (CONFORMANCE_POOL_SIZES=small): what reaching real sizes costs.
- extra_impl_ratio: what each implementation past the first adds to a run of
  several, as a fraction of one implementation's run: (T5 - T1) / 4 / T1, with T1
  the reference alone and T5 the reference and the first four conforming variants
  in one run, both at --max-examples 20 (to keep the figure's cost to a few
  minutes), cold, 2 workers. Target: at most 0.5.

Details go to stderr, the figures to stdout as the last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.engine.defaults import CACHE_ENV_VAR
from conformance.engine.plugin import COMPILE_COUNT_ENV
from conformance.kit.naive import NAIVE_ENV
from conformance.kit.pools import SIZES_ENV

NAIVE_SUBSET = (
    "01-forward-matches-construction",
    "02-forward-matches-construction",
    "03-output-is-twice-nnx",
    "05-forward-matches-recipe",
)


def _run(
    *,
    workers: int,
    only: tuple[str, ...] = (),
    naive: bool = False,
    cache: str | None = None,
    profile: str = "ci",
    check: bool = True,
    impls: tuple[str, ...] = (),
    max_examples: int | None = None,
    pool_sizes: str = "real",
) -> dict:
    work = Path(tempfile.mkdtemp(prefix="conformance-bench-"))
    counts = work / "compiles"
    counts.mkdir()
    env = {**os.environ, COMPILE_COUNT_ENV: str(counts), NAIVE_ENV: "1" if naive else "0", SIZES_ENV: pool_sizes}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.pop(CACHE_ENV_VAR, None)  # cold unless this run names its cache
    cmd = [
        sys.executable,
        "-m",
        "conformance",
        "run",
        "--profile",
        profile,
        "--workers",
        str(workers),
        "--json",
        str(work / "report.json"),
    ]
    for o in only:
        cmd += ["--only", o]
    if impls:
        cmd += ["--impl", *impls]
    if max_examples is not None:
        cmd += ["--max-examples", str(max_examples)]
    if cache:
        cmd += ["--compilation-cache", cache]
    start = time.perf_counter()
    # cwd is scratch: the default profile's example database must not carry examples between runs.
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=work)
    wall = time.perf_counter() - start
    report = json.loads((work / "report.json").read_text())
    if proc.returncode != 0 and (check or not report["results"]):
        raise SystemExit(f"benchmark run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}")
    per_process = [json.loads(p.read_text()) for p in counts.glob("*.json")]
    by_test: dict[str, int] = {}
    for figures in per_process:
        for nodeid, n in figures["by_test"].items():
            by_test[nodeid] = by_test.get(nodeid, 0) + n
    return {
        "wall": wall,
        "report": report,
        "by_test": by_test,
        "compiles": sum(f["compiles"] for f in per_process),
        "cache_hits": sum(f["cache_hits"] for f in per_process),
        "compile_seconds": sum(f["compile_seconds"] for f in per_process),
        "seconds": sum(r["seconds"] for r in report["results"]),
    }


def shape_coverage(report: dict) -> dict[str, set[str]]:
    """The distinct shapes a run's examples drew, by contract name (``flax`` for framework properties)."""
    from conformance.engine.registry import discover

    needs = {p.id: p.needs or ("flax",) for p in discover().values()}
    covered: dict[str, set[str]] = {}
    for r in report["results"]:
        for name in needs.get(r["id"], ()):
            covered.setdefault(name, set()).update((r.get("extra") or {}).get("shapes", ()))
    return covered


def tolerance_audit(report: dict) -> list[tuple[str, float, str]]:
    """(property, loosest bound / scale over its comparisons, which comparison), loosest first."""
    rows = [
        (r["id"], (r.get("extra") or {}).get("tolerance_ratio"), (r.get("extra") or {}).get("tolerance_ratio_at", ""))
        for r in report["results"]
    ]
    return sorted(((i, t, at) for i, t, at in rows if t is not None), key=lambda row: -row[1])


def _print_audit(rows: list[tuple[str, float, str]]) -> None:
    for prop_id, ratio, at in rows:
        print(f"  {ratio:10.3g}  {prop_id}{'  <- above 1e-3' if ratio > 1e-3 else ''}", file=sys.stderr)
        if ratio > 1e-3 and at:
            print(f"              at {at}", file=sys.stderr)


def coverage() -> None:
    """``make bench-coverage``: distinct shapes per contract name over 10 default-profile runs (new pools).

    On the bundled reference every property must pass on every pool; a verdict that does not is a
    false failure (a tolerance or a probe that fails correct code at some size), listed with the
    pool seed that replays it. The loosest tolerance seen over all runs is reported as well.
    """
    runs, union, loosest, false_failures = 10, {}, {}, []
    for i in range(runs):
        r = _run(workers=2, profile="default", check=False)
        seed = r["report"].get("pool_seed")
        for name, shapes in shape_coverage(r["report"]).items():
            union.setdefault(name, set()).update(shapes)
        for prop_id, ratio, at in tolerance_audit(r["report"]):
            if ratio > loosest.get(prop_id, (0.0, ""))[0]:
                loosest[prop_id] = (ratio, f"{at} (pool seed {seed})")
        bad = [
            f"{x['id']} ({x['status']}, pool seed {seed})"
            for x in r["report"]["results"]
            if x["status"] not in ("passed", "expected_divergence")
        ]
        false_failures += bad
        print(
            f"run {i + 1}: pool seed {seed}, {r['wall']:.1f} s, {sum(len(s) for s in union.values())} shapes "
            f"so far" + (f"; did not pass: {', '.join(bad)}" if bad else ""),
            file=sys.stderr,
        )
    worst = sorted(((i, ratio, at) for i, (ratio, at) in loosest.items()), key=lambda row: -row[1])
    print("loosest tolerance over all runs (max bound / the scale judged):", file=sys.stderr)
    _print_audit(worst[:10])
    print(
        json.dumps(
            {
                "runs": runs,
                "shapes_per_contract_name": {k: len(v) for k, v in sorted(union.items())},
                "shapes_covered": sum(len(v) for v in union.values()),
                "tolerance_ratio_max": round(worst[0][1], 6) if worst else None,
                "false_failures": false_failures,
            }
        )
    )


EXTRA_IMPL_EXAMPLES = 20


def _extra_impl_ratio() -> float:
    """(T5 - T1) / 4 / T1: each implementation past the first, as a fraction of one implementation's run."""
    from conformance.engine.mutants import discover_conforming

    five = tuple(discover_conforming()[:5])
    one = _run(workers=2, impls=five[:1], max_examples=EXTRA_IMPL_EXAMPLES)
    many = _run(workers=2, impls=five, max_examples=EXTRA_IMPL_EXAMPLES)
    ratio = (many["wall"] - one["wall"]) / (len(five) - 1) / one["wall"]
    print(
        f"several implementations at --max-examples {EXTRA_IMPL_EXAMPLES}: one {one['wall']:.1f} s, "
        f"{len(five)} ({', '.join(t.rsplit('.', 1)[-1] for t in five)}) {many['wall']:.1f} s: "
        f"{(many['wall'] - one['wall']) / (len(five) - 1):.1f} s per implementation past the first",
        file=sys.stderr,
    )
    return round(ratio, 3)


def record_durations() -> None:
    """Write the default run's seconds per property to the catalogue's durations file (the scheduling order)."""
    from conformance.engine import durations, registry
    from conformance.engine.versions import flax_version

    run = _run(workers=2)
    seconds = {r["id"]: r["seconds"] for r in run["report"]["results"]}
    source = f"the reference, ci profile, 2 workers, {run['wall']:.0f} s wall, flax {flax_version()}"
    path = registry.properties_dir() / durations.FILE
    path.write_text(durations.render(seconds, source))
    print(f"wrote {len(seconds)} durations to {path}", file=sys.stderr)


def main() -> None:
    if sys.argv[1:] == ["coverage"]:
        return coverage()
    if sys.argv[1:] == ["durations"]:
        return record_durations()
    default = _run(workers=2)
    results = default["report"]["results"]
    impl = [r for r in results if r["kind"] == "implementation"]
    impl_time = sum(r["impl_seconds"] for r in impl)
    examples = sum(r["examples"] for r in results)
    print(
        f"default run: {len(results)} properties, {examples} examples, {default['wall']:.1f} s wall, "
        f"{default['compiles']} compilations taking {default['compile_seconds']:.1f} s",
        file=sys.stderr,
    )
    busiest = sorted(default["by_test"].items(), key=lambda kv: -kv[1])[:8]
    print(
        "most compilations (both workers): " + ", ".join(f"{n} {nodeid.split('::')[-1]}" for nodeid, n in busiest),
        file=sys.stderr,
    )
    small = _run(workers=2, pool_sizes="small")
    print(
        f"the same run on the pools of earlier releases (rows to 64, widths to 512, document 04 to 8 tokens): "
        f"{small['wall']:.1f} s wall, {small['compiles']} compilations",
        file=sys.stderr,
    )
    audit = tolerance_audit(default["report"])
    print("tolerance audit (max bound / the scale judged, README: Oracles and tolerances):", file=sys.stderr)
    _print_audit(audit)
    single = _run(workers=1)
    print(f"one worker: {single['wall']:.1f} s", file=sys.stderr)
    pooled = _run(workers=0, only=NAIVE_SUBSET)
    naive = _run(workers=0, only=NAIVE_SUBSET, naive=True)
    for name, r in (("pooled", pooled), ("naive", naive)):
        print(
            f"subset {', '.join(NAIVE_SUBSET)}, {name}: properties {r['seconds']:.1f} s, "
            f"process {r['wall']:.1f} s, {r['compiles']} compilations",
            file=sys.stderr,
        )
    cache = tempfile.mkdtemp(prefix="conformance-bench-xla-")
    filling = _run(workers=2, cache=cache)
    warm = _run(workers=2, cache=cache)
    print(
        f"with a persistent compilation cache: filling it {filling['wall']:.1f} s, then warm {warm['wall']:.1f} s "
        f"({warm['cache_hits']} programs loaded, {warm['compiles']} compiled)",
        file=sys.stderr,
    )
    extra_impl_ratio = _extra_impl_ratio()
    figures = {
        "properties": len(results),
        "examples_per_property": 100,
        "wall_s": round(default["wall"], 2),
        "examples_per_s": round(examples / default["wall"], 1),
        "compiles": default["compiles"],
        "overhead_ratio": round(sum(r["seconds"] for r in impl) / impl_time, 2) if impl_time else None,
        "naive_speedup": round(naive["seconds"] / pooled["seconds"], 1),
        "naive_speedup_wall": round(naive["wall"] / pooled["wall"], 1),
        "parallel_speedup": round(single["wall"] / default["wall"], 2),
        "warm_wall_s": round(warm["wall"], 2),
        "shapes_covered": sum(len(s) for s in shape_coverage(default["report"]).values()),
        "tolerance_ratio_max": round(audit[0][1], 6) if audit else None,
        "extra_impl_ratio": extra_impl_ratio,
        "wall_ratio_vs_small_pools": round(default["wall"] / small["wall"], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
