"""Which leaf of a TransformerBlock's params is q, k, v, out, fc1, fc2, LN1 or LN2: found by what each does.

Shapes sort the block's units into attention projections, fc1, fc2 and
LayerNorms (:func:`.units.block_structure`); the block's behaviour, probed on
random parameters, says the rest:

- attention: zero one projection kernel and see which other projection
  kernels lose their gradient. In exact arithmetic, out = 0 makes q, k and v
  irrelevant; v = 0 makes q and k irrelevant (every value is the bias, and
  softmax rows sum to 1); k = 0 makes q irrelevant (every key is the bias, so
  each row of scores is constant); q = 0 leaves k relevant. The kill counts 3,
  2, 1, 0 name out, v, k, q. These facts hold however the rest of the block is
  wired (post-LN or pre-LN), and they pick the column convention of a fused
  (d -> 3d) projection: [q | k | v], or per head [q_h | k_h | v_h].
- LayerNorms: zeroing a post-LN LayerNorm's scale makes every output row equal
  (nothing after it mixes positions), and LN2's bias shifts the output by
  exactly what is added to it. A block where these do not hold (pre-LN, say)
  is still read: its scales are the leaves initialised to ones, else named
  like a scale, and the oracle is shown both orders of the two LayerNorms.

The probes say where the parameters are, never whether the block computes
the right function: that is the properties' job, against the oracle. Where
several column conventions of a fused projection behave like attention, the
caller's ``oracle`` (the float64 block, a function of the input and a
:class:`..params.BlockParams`) settles it: the reading whose oracle output is
nearest the block's own. A module that exports ``PARAM_ROLES``
(:mod:`.param_roles`) is read from it instead. Everything is cached per (block
class, PARAM_ROLES, sizes): a run probes each size once, with one compiled
program (:func:`..calls.out_and_grad`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from conformance.kit import precision
from conformance.kit.memo import remembered
from conformance.kit.strategies import random_params
from conformance.kit.trees import map_leaves

from .. import calls
from ..params import BlockParams
from .param_roles import ROLES, declared_refs
from .units import BlockStructure, LayoutUnreadable, Ref, block_structure

# The float64 block: output for an input and one reading of the parameters.
Oracle = Callable[[np.ndarray, BlockParams], np.ndarray]

DEAD = 1e-3  # a kernel whose gradient norm falls below DEAD x its baseline no longer matters
EXACT = 1e-4  # relative difference below which two probe outputs count as equal


def _threshold(floor: float) -> float:
    # At reduced matmul precision (TF32, bfloat16) 'exactly zero' and 'equal' hold only up to the
    # operands' rounding: the thresholds follow the run's precision.
    return max(floor, 16 * precision.current_precision().operand_roundoff)


PROBE_BATCH = (2, 4)  # (B, S) of the probe input: S >= 2, so that attention weights matter
SCALE_NAMES = ("scale", "weight", "gamma", "g", "gain")
BIAS_NAMES = ("bias", "beta", "b", "offset", "shift")
FIELDS = {
    "q": "query",
    "k": "key",
    "v": "value",
    "o": "out",
    "fc1": "fc1",
    "fc2": "fc2",
    "ln1": "norm1",
    "ln2": "norm2",
}


def _pair(piece: str) -> tuple[str, str]:
    """A piece's two roles, as BlockParams orders them: (kernel, bias) or (scale, bias)."""
    return (f"{piece}.scale" if piece.startswith("ln") else f"{piece}.kernel"), f"{piece}.bias"


@dataclass(frozen=True)
class BlockRoles:
    """Where each of the 16 roles sits in the block's params, and how the suite knows."""

    dims: tuple[int, int, int]
    refs: dict[str, Ref]
    source: str  # "PARAM_ROLES" or "probes"
    ln_order_known: bool
    evidence: tuple[str, ...] = ()

    def read(self, params: Any, swap_norms: bool = False) -> BlockParams:
        d, heads, _ = self.dims
        hd = d // heads
        values = {field: tuple(self.refs[r].read(params) for r in _pair(p)) for p, field in FIELDS.items()}
        for p in ("query", "key", "value"):
            values[p] = (values[p][0].reshape(d, heads, hd), values[p][1].reshape(heads, hd))
        values["out"] = (values["out"][0].reshape(heads, hd, d), values["out"][1])
        if swap_norms:
            values["norm1"], values["norm2"] = values["norm2"], values["norm1"]
        return BlockParams(**values)

    def readings(self, params: Any) -> list[BlockParams]:
        """The block's params in the suite's layout: one reading, or both LayerNorm orders if unknown."""
        return [self.read(params)] + ([] if self.ln_order_known else [self.read(params, swap_norms=True)])

    def write(self, shapes: Any, values: BlockParams) -> Any:
        """A params tree shaped like ``shapes`` holding ``values`` (float32) at every role."""
        return self.fill(map_leaves(lambda a: np.zeros(np.shape(a), np.float32), shapes), values)

    def fill(self, tree: Any, values: BlockParams) -> Any:
        """A copy of ``tree`` (concrete arrays) with ``values`` (float32) at every role, the rest as it was."""
        for p, field in FIELDS.items():
            for role, value in zip(_pair(p), getattr(values, field)):
                tree = self.refs[role].write(tree, value)
        return tree

    def note(self) -> str:
        """For failure messages: where the suite read the block's pieces."""
        where = ", ".join(
            f"{r}={self.refs[r]}"
            for r in (
                "q.kernel",
                "k.kernel",
                "v.kernel",
                "o.kernel",
                "fc1.kernel",
                "fc2.kernel",
                "ln1.scale",
                "ln2.scale",
            )
        )
        how = (
            "as PARAM_ROLES says"
            if self.source == "PARAM_ROLES"
            else "found by behaviour probes (export PARAM_ROLES if the suite misread them)"
        )
        return f"roles {how}: {where}" + ("" if self.ln_order_known else "; LayerNorm order unknown, both tried")


class _Probe:
    """The block's output and parameter gradient on one fixed input, for chosen parameters."""

    def __init__(self, impl, dims: tuple[int, int, int], shapes: Any):
        rng = np.random.default_rng(0)
        self.impl, self.dims = impl, dims
        self.x, self.r = (rng.standard_normal((*PROBE_BATCH, dims[0])).astype(np.float32) for _ in range(2))
        self.params = random_params(shapes, 0)
        self.rng = rng

    def run(self, params: Any) -> tuple[np.ndarray, Any]:
        return calls.out_and_grad(self.impl, "TransformerBlock", self.dims, params, self.x, self.r)


def _fused_columns(d: int, heads: int) -> dict[str, list[tuple[int, ...]]]:
    hd = d // heads
    blocks = [tuple(range(i * d, (i + 1) * d)) for i in range(3)]
    per_head = [tuple(h * 3 * hd + i * hd + j for h in range(heads) for j in range(hd)) for i in range(3)]
    return {"[q|k|v]": blocks} if heads == 1 else {"[q|k|v]": blocks, "per head [q_h|k_h|v_h]": per_head}


def _attention_roles(probe: _Probe, st: BlockStructure, what: str) -> list[tuple[dict[str, Ref], str]]:
    """Every reading of the attention projections whose kill pattern is attention's (one, or several for
    a fused projection whose column conventions the pattern alone cannot tell apart at these sizes)."""
    d, heads, _ = probe.dims
    plain = [(u.kernel, u.bias) for u in st.attention if u.n_out == d]
    fused = [u for u in st.attention if u.n_out == 3 * d]
    options = (
        [("separate projections", plain)]
        if not fused
        else [
            (
                f"fused {name}",
                plain
                + [
                    (dataclasses.replace(u.kernel, cols=c), dataclasses.replace(u.bias, cols=c))
                    for u in fused
                    for c in cols
                ],
            )
            for name, cols in _fused_columns(d, heads).items()
        ]
    )
    _, g0 = probe.run(probe.params)
    tried, found = [], []
    for name, cands in options:
        base = [float(np.linalg.norm(k.read(g0))) for k, _ in cands]
        kills = []
        for i, (k, _) in enumerate(cands):
            _, g = probe.run(k.write(probe.params, 0.0))
            kills.append(
                {
                    j
                    for j, (k2, _) in enumerate(cands)
                    if j != i and float(np.linalg.norm(k2.read(g))) <= _threshold(DEAD) * base[j]
                }
            )
        order = sorted(range(len(cands)), key=lambda i: -len(kills[i]))  # out, v, k, q
        if len(cands) == 4 and all(kills[order[n]] == set(order[n + 1 :]) for n in range(4)):
            refs = {}
            for role, i in zip(("o", "v", "k", "q"), order):
                kernel, bias = cands[i]
                label = f"{role} of {name}" if kernel.cols is not None else ""
                refs[f"{role}.kernel"] = dataclasses.replace(kernel, note=label)
                refs[f"{role}.bias"] = dataclasses.replace(bias, note=label)
            found.append(
                (
                    refs,
                    f"attention ({name}): zeroing the out, value, key, query kernel makes 3, 2, 1, 0 of "
                    f"the other projection kernels irrelevant",
                )
            )
            continue
        tried.append(f"{name}: zeroing each kernel made {[len(s) for s in kills]} others irrelevant")
    if found:
        return found
    raise LayoutUnreadable(
        what,
        "no assignment of q, k, v and out to its attention projections behaves like "
        "attention (zeroing out, value, key, query kernels should make 3, 2, 1, 0 of the "
        "others irrelevant): " + "; ".join(tried),
    )


def _rows_equal(y: np.ndarray, tol: float) -> bool:
    return float(np.abs(y - y[:1, :1]).max()) <= tol


def _post_ln_scales(probe: _Probe, st: BlockStructure) -> list[tuple[Ref, Ref]] | None:
    y0, _ = probe.run(probe.params)
    tol = _threshold(EXACT) * float(np.abs(y0).max())
    pairs = []
    for u in st.norms:
        a, b = (Ref(path) for path in u.names())
        equal = [_rows_equal(probe.run(ref.write(probe.params, 0.0))[0], tol) for ref in (a, b)]
        if equal.count(True) != 1:
            return None
        pairs.append((a, b) if equal[0] else (b, a))
    return pairs


def _final_norm(probe: _Probe, pairs: list[tuple[Ref, Ref]]) -> int | None:
    """Index of the LayerNorm whose bias shifts the block's output by exactly what is added to it."""
    y0, _ = probe.run(probe.params)
    finals = []
    for _, bias in pairs:
        delta = probe.rng.standard_normal(probe.dims[0]).astype(np.float32)
        y, _ = probe.run(bias.write(probe.params, bias.read(probe.params) + delta))
        finals.append(float(np.abs(y - y0 - delta).max()) <= _threshold(EXACT) * float(np.abs(delta).max()))
    return finals.index(True) if finals.count(True) == 1 else None


def _scales_by_init_or_name(impl, dims: tuple[int, int, int], st: BlockStructure, what: str) -> list[tuple[Ref, Ref]]:
    model = calls.construct(impl, "TransformerBlock", dims)
    with impl.running(f"{calls.describe('TransformerBlock', dims)}.init"):
        params = jax.jit(model.init)(jax.random.PRNGKey(0), np.zeros((1, 2, dims[0]), np.float32))["params"]
    pairs = []
    for u in st.norms:
        a, b = (Ref(path) for path in u.names())
        va, vb = a.read(params), b.read(params)
        names = [n.lower() for n, _ in u.leaves]
        if np.all(va == 1) and np.all(vb == 0):
            pairs.append((a, b))
        elif np.all(vb == 1) and np.all(va == 0):
            pairs.append((b, a))
        elif names[0] in SCALE_NAMES and names[1] in BIAS_NAMES:
            pairs.append((a, b))
        elif names[1] in SCALE_NAMES and names[0] in BIAS_NAMES:
            pairs.append((b, a))
        else:
            raise LayoutUnreadable(
                what,
                f"cannot tell the scale from the bias of the LayerNorm at {u.path}: zeroing "
                f"either leaves output rows unequal, neither is initialised to ones with the "
                f"other zeros, and their names {names} are not a scale's and a bias's",
            )
    return pairs


def _find(impl, dims: tuple[int, int, int], oracle: Oracle) -> BlockRoles:
    what = calls.describe("TransformerBlock", dims)
    shapes = calls.param_shapes(impl, "TransformerBlock", dims)
    declared = impl.option("PARAM_ROLES")
    if declared is not None:
        return BlockRoles(dims, declared_refs(impl, declared, shapes, dims, what), "PARAM_ROLES", True)
    st = block_structure(shapes, *dims, what)
    probe = _Probe(impl, dims, shapes)
    readings = _attention_roles(probe, st, what)
    pairs = _post_ln_scales(probe, st)
    final = None if pairs is None else _final_norm(probe, pairs)
    if pairs is None:
        pairs = _scales_by_init_or_name(impl, dims, st, what)
        ln_evidence = "LayerNorms: not post-LN by the probes; scales are the leaves initialised to ones (or so named)"
    else:
        ln_evidence = "LayerNorms: zeroing the scale makes every output row equal" + (
            "; LN2's bias shifts the output by exactly what is added" if final is not None else ""
        )
    order = [1 - final, final] if final is not None else [0, 1]
    candidates = []
    for refs, attention_evidence in readings:
        for n, i in zip(("ln1", "ln2"), order):
            refs[f"{n}.scale"], refs[f"{n}.bias"] = pairs[i]
        refs.update(
            {"fc1.kernel": st.fc1.kernel, "fc1.bias": st.fc1.bias, "fc2.kernel": st.fc2.kernel, "fc2.bias": st.fc2.bias}
        )
        assert set(refs) == set(ROLES)
        candidates.append(BlockRoles(dims, refs, "probes", final is not None, (attention_evidence, ln_evidence)))
    if len(candidates) == 1:
        return candidates[0]
    # Several column conventions behave like attention: the one whose reading the float64 oracle reproduces.
    y, _ = probe.run(probe.params)

    def distance(c: BlockRoles) -> float:
        return min(float(np.abs(oracle(probe.x, r) - y).max()) for r in c.readings(probe.params))

    return min(candidates, key=distance)


_FOUND: dict[tuple, BlockRoles | Exception] = {}


def block_roles(impl, dims: tuple[int, int, int], oracle: Oracle) -> BlockRoles:
    """The block's roles at these sizes (cached per block class, PARAM_ROLES and sizes)."""
    dims = tuple(int(v) for v in dims)
    key = (impl.get("TransformerBlock"), id(impl.option("PARAM_ROLES")), dims)
    return remembered(_FOUND, key, lambda: _find(impl, dims, oracle))
