"""FLOP counts from XLA's cost analysis of a *lowered* (not compiled) function.

``jax.jit(f).lower(*args).cost_analysis()`` counts the operations of the
StableHLO module without compiling it, and accepts abstract arguments
(``jax.ShapeDtypeStruct``, e.g. from ``jax.eval_shape``), so nothing is
allocated. Compiled cost analysis counts differently (after fusion and
simplification), so the suite uses lowered counts throughout and only compares
them with each other.

Loops. XLA's cost analysis counts the body of a ``while`` loop **once**,
whatever its trip count. ``lax.scan`` (and so ``nn.scan``) lowers to a while
loop unless it is unrolled, so a shared model written with ``nn.scan`` would
appear to cost one layer instead of ``L``. The suite does not reject such a
model, nor does it guess a multiplier: :func:`count_flops` traces the function
to a jaxpr, rewrites every ``scan`` (at any depth, forward and backward) with
``unroll=length``, and lowers that. An unrolled scan is straight-line code, so
XLA counts every iteration; the computation is the same. What remains is the
scan's own bookkeeping (slicing and stacking per iteration), a few operations
per layer, which properties allow for. A ``while`` that is not a scan (a
``lax.while_loop`` or a ``fori_loop`` with traced bounds) has no static trip
count; it is reported in :attr:`FlopCount.while_loops` and properties refuse to
compare such a count rather than report a wrong one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from jax.extend import core as jcore

from conformance.kit.precision import unit_roundoff

_WHILE = re.compile(r"\bstablehlo\.while\b")
_OPERATION = re.compile(r"\b(?:stablehlo|chlo|mhlo)\.[a-z_]+\b")

# XLA keeps FLOP counts in float32: each instruction's count and their running
# sum are rounded to 24 bits, so counts above 2**24 are exact only to a few ulps.
_COUNT_EPS = unit_roundoff(np.float32)


@dataclass(frozen=True)
class FlopCount:
    flops: float
    scans_unrolled: int  # scan equations replayed as Python loops (nested ones once per outer step)
    while_loops: int  # while loops left in the lowered module (bodies counted once)
    operations: int = 1  # operations in the lowered module (terms of XLA's float32 sum)

    @property
    def exact(self) -> bool:
        """No loop body was counted once for many iterations."""
        return self.while_loops == 0

    @property
    def rounding(self) -> float:
        """A bound on XLA's own rounding of :attr:`flops` (0 when it is exact).

        Per-instruction counts are integers and XLA sums them in float32: below
        2**24 every partial sum is exact; above, each of the ``operations`` terms
        and additions may round by one relative unit (2**-24).
        """
        if self.flops < 2.0**24:
            return 0.0
        return 2 * self.operations * _COUNT_EPS * self.flops


def cost_dict(lowered: Any) -> dict[str, float]:
    """``Lowered.cost_analysis()`` as one dict (older JAX returned a list of one dict)."""
    cost = lowered.cost_analysis()
    if isinstance(cost, (list, tuple)):
        if len(cost) != 1:
            raise ValueError(f"cost_analysis returned {len(cost)} entries, expected 1")
        cost = cost[0]
    if not isinstance(cost, dict) or "flops" not in cost:
        raise ValueError(f"cost_analysis returned {type(cost).__name__} without 'flops'")
    return cost


def _count(lowered: Any, flops: float, scans: int) -> FlopCount:
    text = lowered.as_text()
    return FlopCount(flops, scans, len(_WHILE.findall(text)), max(1, len(_OPERATION.findall(text))))


def lowered_flops(fn: Callable[..., Any], *args: Any) -> FlopCount:
    """FLOPs of ``fn`` as lowered, loops left as they are (a while body counts once)."""
    lowered = jax.jit(fn).lower(*args)
    return _count(lowered, float(cost_dict(lowered)["flops"]), 0)


def unrolled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with every ``lax.scan`` it traces to run as a Python loop over the scan's body.

    Same results as ``fn``; traced under ``jax.jit`` it lowers without while
    loops for scans. The returned function records in ``.scans`` how many scan
    equations the last trace replayed (a scan inside a scan once per outer step).
    """

    def run(*args: Any) -> Any:
        closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        counter = [0]
        out = _eval(closed.jaxpr, closed.consts, jax.tree_util.tree_leaves(args), counter)
        run.scans = counter[0]  # type: ignore[attr-defined]
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out_shape), out)

    run.scans = 0  # type: ignore[attr-defined]
    return run


def count_flops(fn: Callable[..., Any], *args: Any) -> FlopCount:
    """FLOPs of ``fn(*args)`` with every ``lax.scan`` unrolled (see the module docstring).

    ``args`` may be arrays or ``jax.ShapeDtypeStruct`` pytrees.
    """
    replay = unrolled(fn)
    lowered = jax.jit(replay).lower(*args)
    return _count(lowered, float(cost_dict(lowered)["flops"]), replay.scans)


# --- replaying a jaxpr with scans unrolled ------------------------------------------

_INLINE = frozenset({"pjit", "jit", "closed_call", "core_call"})


def _eval(jaxpr: Any, consts: Any, args: Any, counter: list[int]) -> list[Any]:
    env: dict[Any, Any] = {}

    def read(v: Any) -> Any:
        return v.val if isinstance(v, jcore.Literal) else env[v]

    for var, val in zip(jaxpr.constvars, consts):
        env[var] = val
    for var, val in zip(jaxpr.invars, args):
        env[var] = val
    for eqn in jaxpr.eqns:
        invals = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        if name == "scan":
            counter[0] += 1
            outs = _eval_scan(invals, counter, **eqn.params)
        elif name in _INLINE and isinstance(eqn.params.get("jaxpr"), jcore.ClosedJaxpr):
            inner = eqn.params["jaxpr"]
            outs = _eval(inner.jaxpr, inner.consts, invals, counter)
        else:
            # Other primitives; scans nested in their sub-jaxprs (cond branches,
            # custom derivatives) are unrolled through their parameter instead.
            params = {k: _unroll_param(v, counter) for k, v in eqn.params.items()}
            bind_params = eqn.primitive.get_bind_params(params)
            subfuns: tuple = ()
            if isinstance(bind_params, tuple):  # JAX < 0.5: (subfuns, params)
                subfuns, bind_params = bind_params
            manager = getattr(getattr(eqn, "ctx", None), "manager", None)
            with manager if manager is not None else contextlib.nullcontext():
                outs = eqn.primitive.bind(*subfuns, *invals, **bind_params)
            if not eqn.primitive.multiple_results:
                outs = [outs]
        for var, val in zip(eqn.outvars, outs):
            env[var] = val
    return [read(v) for v in jaxpr.outvars]


def _eval_scan(
    invals: list[Any],
    counter: list[int],
    *,
    length: int,
    reverse: bool,
    num_consts: int,
    num_carry: int,
    jaxpr: Any,
    **_: Any,
) -> list[Any]:
    import jax.numpy as jnp

    consts = invals[:num_consts]
    carry = list(invals[num_consts : num_consts + num_carry])
    xs = invals[num_consts + num_carry :]
    steps = []
    for i in reversed(range(length)) if reverse else range(length):
        out = _eval(jaxpr.jaxpr, jaxpr.consts, [*consts, *carry, *(x[i] for x in xs)], counter)
        carry, ys = out[:num_carry], out[num_carry:]
        steps.append(ys)
    if reverse:
        steps.reverse()
    y_avals = jaxpr.out_avals[num_carry:]
    if not steps:
        return [*carry, *(jnp.zeros((0, *a.shape), a.dtype) for a in y_avals)]
    return [*carry, *(jnp.stack(col) for col in zip(*steps))]


def _unroll_closed(closed: Any, counter: list[int]) -> Any:
    return closed.replace(jaxpr=_unroll_jaxpr(closed.jaxpr, counter))


def _unroll_jaxpr(jaxpr: Any, counter: list[int]) -> Any:
    eqns = []
    for eqn in jaxpr.eqns:
        params = {k: _unroll_param(v, counter) for k, v in eqn.params.items()}
        if eqn.primitive.name == "scan" and params.get("unroll") != params["length"]:
            params["unroll"] = params["length"]
            counter[0] += 1
        eqns.append(eqn.replace(params=params))
    return jaxpr.replace(eqns=eqns)


def _unroll_param(value: Any, counter: list[int]) -> Any:
    if isinstance(value, jcore.ClosedJaxpr):
        return _unroll_closed(value, counter)
    if isinstance(value, jcore.Jaxpr):
        return _unroll_jaxpr(value, counter)
    if isinstance(value, tuple) and any(isinstance(v, (jcore.ClosedJaxpr, jcore.Jaxpr)) for v in value):
        return tuple(_unroll_param(v, counter) for v in value)
    return value
