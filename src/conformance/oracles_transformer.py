"""Document 04: the post-LN Transformer block in NumPy float64, with a rounding bound.

The block is the document's (PyTorch) code::

    x = LN1(x + MHA(x, x, x));  x = LN2(x + FFN(x)),  FFN = Linear -> GELU -> Linear

with PyTorch's defaults, which the document's code relies on: exact (erf) GELU
and LayerNorm eps 1e-5; attention projections with biases.

Parameters come in the suite's own fixed layout, :class:`BlockParams`, which
mirrors Flax's modules (so an implementation built from them maps onto it by
shape, not by the implementation's key names):

- ``query``/``key``/``value``: kernel (d, H, hd), bias (H, hd) -- Flax
  ``nn.MultiHeadDotProductAttention`` (hd = d / H); the query is scaled by
  1/sqrt(hd) before the dot product, as in Flax and PyTorch.
- ``out``: kernel (H, hd, d), bias (d,).
- ``fc1``: kernel (d, d_ff), bias (d_ff,); ``fc2``: kernel (d_ff, d), bias (d,).
- ``norm1``/``norm2``: scale (d,), bias (d,).

:func:`census` finds these pieces in an implementation's parameter tree from
their shapes and Flax's leaf names inside each piece (``kernel``/``bias``,
``scale``/``bias``, and the attention's ``query``/``key``/``value``/``out``),
wherever the implementation nests them and whatever it names its own modules.

Every oracle step also propagates a first-order elementwise bound on the error
of a float32 computation of the same step (Higham-style: a length-k dot product
contributes gamma_k |x||W|, each rounding u|result|, an input error passes
through with the step's derivative). :data:`conformance.tolerances.MARGIN`
covers second-order terms and library ulps.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.tolerances import MARGIN, Tolerance, gamma, unit_roundoff

PYTORCH_LAYER_NORM_EPS = 1e-5
GELU_LIPSCHITZ = 1.13  # max |d/dx x*Phi(x)| = 1.1289...

_erf = np.vectorize(math.erf, otypes=[np.float64])


def f64(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


# --- parameter counts ---------------------------------------------------------

def attention_params(d: int) -> int:
    """A: q, k, v and out kernels (d*d each) and biases (d each)."""
    return 4 * d * d + 4 * d


def ffn_params(d: int, d_ff: int) -> int:
    """F: Linear(d, d_ff) and Linear(d_ff, d) with biases."""
    return 2 * d * d_ff + d_ff + d


def norm_params(d: int) -> int:
    """N: one LayerNorm, scale and bias."""
    return 2 * d


def block_params(d: int, d_ff: int) -> int:
    return attention_params(d) + ffn_params(d, d_ff) + 2 * norm_params(d)


def model_params(share: str | None, num_layers: int, d: int, d_ff: int) -> int:
    """Parameters of the unshared model (``share=None``) or of a sharing mode."""
    a, f, n, L = attention_params(d), ffn_params(d, d_ff), norm_params(d), num_layers
    return {
        None: L * (a + f + 2 * n),
        "all": a + f + 2 * n,
        "ffn": L * (a + 2 * n) + f,
        "attention": a + L * (f + 2 * n),
    }[share]


# --- finding the pieces in a parameter tree ---------------------------------------

PIECES = ("attention", "fc1", "fc2", "norm")


@dataclass
class Census:
    """Where each piece sits in a parameter tree, and the leaves no piece explains.

    ``found[piece]`` lists ``(path, node, n)``: ``n`` is None for a piece with
    the plain shapes, and an int for ``n`` pieces stacked along a new leading
    axis (``nn.scan``/``nn.vmap`` with ``variable_axes={"params": 0}``).
    """

    found: dict[str, list[tuple[str, Any, int | None]]]
    stray: list[tuple[str, tuple[int, ...]]]

    def count(self, piece: str) -> int:
        return sum(1 if n is None else n for _, _, n in self.found[piece])

    def stacked(self) -> bool:
        return any(n is not None for p in PIECES for _, _, n in self.found[p])

    def summary(self) -> str:
        parts = []
        for p in PIECES:
            stacks = [n for _, _, n in self.found[p] if n is not None]
            parts.append(f"{p} x{self.count(p)}" + (f" (stacked {stacks})" if stacks else ""))
        if self.stray:
            parts.append(f"{len(self.stray)} unexplained leaves ({', '.join(f'{k}{s}' for k, s in self.stray[:4])})")
        return ", ".join(parts)


def _is_map(node: Any) -> bool:
    return hasattr(node, "keys") and hasattr(node, "__getitem__")


def _shape(v: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in np.shape(v))


def _flat_shapes(node: Any, prefix: str = "") -> dict[str, tuple[int, ...]]:
    if _is_map(node):
        out: dict[str, tuple[int, ...]] = {}
        for k in node.keys():
            out.update(_flat_shapes(node[k], f"{prefix}/{k}"))
        return out
    return {prefix: _shape(node)}


def _multiplicity(node: Any, pattern: dict[str, tuple[int, ...]]) -> int | bool | None:
    """True if ``node``'s leaves have exactly ``pattern``'s keys and shapes, n if every shape has an
    extra leading axis of the same length n, None otherwise."""
    if not _is_map(node):
        return None
    shapes = _flat_shapes(node)
    if shapes.keys() != pattern.keys():
        return None
    if shapes == pattern:
        return True
    leads = {shapes[k][0] if len(shapes[k]) == len(pattern[k]) + 1 and shapes[k][1:] == pattern[k] else None
             for k in pattern}
    return leads.pop() if len(leads) == 1 and None not in leads else None


def piece_patterns(d: int, heads: int, d_ff: int) -> dict[str, dict[str, tuple[int, ...]]]:
    """Flax's leaf names and shapes for each piece (paths relative to the piece)."""
    hd = d // heads
    proj = {"kernel": (d, heads, hd), "bias": (heads, hd)}
    attention = {f"/{n}/{leaf}": shape for n in ("query", "key", "value") for leaf, shape in proj.items()}
    attention.update({"/out/kernel": (heads, hd, d), "/out/bias": (d,)})
    return {
        "attention": attention,
        "fc1": {"/kernel": (d, d_ff), "/bias": (d_ff,)},
        "fc2": {"/kernel": (d_ff, d), "/bias": (d,)},
        "norm": {"/scale": (d,), "/bias": (d,)},
    }


def census(tree: Any, d: int, heads: int, d_ff: int) -> Census:
    """Find every attention, fc1, fc2 and LayerNorm piece in ``tree`` by shape.

    Requires d_ff != d (else fc1 and fc2 look alike). Leaves outside every piece
    are listed in ``stray``.
    """
    if d_ff == d:
        raise ValueError("census needs d_ff != d_model to tell fc1 from fc2")
    patterns = piece_patterns(d, heads, d_ff)
    found: dict[str, list[tuple[str, Any, int | None]]] = {p: [] for p in PIECES}
    stray: list[tuple[str, tuple[int, ...]]] = []

    def walk(node: Any, path: str) -> None:
        for kind, pattern in patterns.items():
            n = _multiplicity(node, pattern)
            if n is not None:
                found[kind].append((path, node, None if n is True else n))
                return
        if _is_map(node):
            for k in sorted(node.keys(), key=str):
                walk(node[k], f"{path}/{k}")
        else:
            stray.append((path, _shape(node)))

    walk(tree, "")
    return Census(found, stray)


@dataclass(frozen=True)
class BlockParams:
    """One block's parameters in the suite's layout (float64 copies of float32 values)."""

    query: tuple[np.ndarray, np.ndarray]
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    out: tuple[np.ndarray, np.ndarray]
    fc1: tuple[np.ndarray, np.ndarray]
    fc2: tuple[np.ndarray, np.ndarray]
    norm1: tuple[np.ndarray, np.ndarray]
    norm2: tuple[np.ndarray, np.ndarray]


def require_block_pieces(c: Census, d: int, heads: int, d_ff: int) -> None:
    """Exactly one attention, one fc1, one fc2 and two LayerNorms, and nothing else (else AssertionError)."""
    want = {"attention": 1, "fc1": 1, "fc2": 1, "norm": 2}
    if any(c.count(p) != n for p, n in want.items()) or c.stray or c.stacked():
        raise AssertionError(
            f"TransformerBlock params hold {c.summary()}; expected exactly one "
            f"nn.MultiHeadDotProductAttention-shaped piece (query/key/value kernels ({d}, {heads}, {d // heads}), "
            f"out kernel ({heads}, {d // heads}, {d}), all with biases), Dense ({d}->{d_ff}) and ({d_ff}->{d}) "
            f"with biases, two LayerNorms (scale, bias of ({d},)), and nothing else")


def block_layouts(tree: Any, d: int, heads: int, d_ff: int) -> list[BlockParams]:
    """The block's parameters read from one block's tree.

    The tree must hold exactly one attention, one fc1, one fc2 and two
    LayerNorms and nothing else (raises AssertionError otherwise). The two
    LayerNorms have the same shapes, so both assignments are returned; a
    conforming block matches one of them.
    """
    c = census(tree, d, heads, d_ff)
    require_block_pieces(c, d, heads, d_ff)

    def kb(node: Any, a: str = "kernel", b: str = "bias") -> tuple[np.ndarray, np.ndarray]:
        return f64(node[a]), f64(node[b])

    att = c.found["attention"][0][1]
    norms = [kb(n, "scale") for _, n, _ in c.found["norm"]]
    common = dict(query=kb(att["query"]), key=kb(att["key"]), value=kb(att["value"]), out=kb(att["out"]),
                  fc1=kb(c.found["fc1"][0][1]), fc2=kb(c.found["fc2"][0][1]))
    return [BlockParams(**common, norm1=n1, norm2=n2) for n1, n2 in itertools.permutations(norms)]


# --- tree helpers ---------------------------------------------------------------------

def find_layers(tree: Any, like: Any) -> list[tuple[str, int | None]]:
    """Where the copies of a block shaped like ``like`` sit in ``tree``, one entry per layer.

    A subtree with ``like``'s keys and shapes is one layer ``(path, None)``; a
    subtree with its keys and every shape prefixed by the same n holds n layers
    stacked on axis 0, ``(path, 0) ... (path, n-1)``. Subtrees are searched
    outermost first and not inside a match.
    """
    pattern = _flat_shapes(like)
    slots: list[tuple[str, int | None]] = []

    def walk(node: Any, path: str) -> None:
        n = _multiplicity(node, pattern)
        if n is True:
            slots.append((path, None))
        elif n is not None:
            slots.extend((path, i) for i in range(n))
        elif _is_map(node):
            for k in sorted(node.keys(), key=str):
                walk(node[k], f"{path}/{k}")

    walk(tree, "")
    return slots


def get_layer(tree: Any, slot: tuple[str, int | None]) -> Any:
    node = get_path(tree, slot[0])
    if slot[1] is None:
        return node
    return _map_leaves(lambda a: np.asarray(a)[slot[1]], node)


def place_layers(tree: Any, slots: list[tuple[str, int | None]], value: Any) -> Any:
    """A copy of ``tree`` with ``value`` (one block's params) in every slot."""
    out = _as_dicts(tree)
    by_path: dict[str, int] = {}
    for path, index in slots:
        by_path[path] = by_path.get(path, 0) + (index is not None)
    for path, n in by_path.items():
        block = value if n == 0 else _map_leaves(lambda a, n=n: np.stack([np.asarray(a)] * n), value)
        out = set_paths(out, [path], block)
    return out


def _map_leaves(fn: Any, node: Any) -> Any:
    if _is_map(node):
        return {str(k): _map_leaves(fn, node[k]) for k in node.keys()}
    return fn(node)


def get_path(tree: Any, path: str) -> Any:
    node = tree
    for k in filter(None, path.split("/")):
        node = node[k]
    return node


def set_paths(tree: Any, paths: list[str], value: Any) -> Any:
    """A copy of ``tree`` (as nested dicts) with ``value`` placed at each of ``paths``."""
    out = _as_dicts(tree)
    for path in paths:
        keys = [k for k in path.split("/") if k]
        if not keys:
            return value
        node = out
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return out


def _as_dicts(tree: Any) -> Any:
    if _is_map(tree):
        return {str(k): _as_dicts(tree[k]) for k in tree.keys()}
    return tree


def leaf_count(tree: Any) -> int:
    if _is_map(tree):
        return sum(leaf_count(tree[k]) for k in tree.keys())
    return int(np.prod(_shape(tree), dtype=np.int64))


# --- the oracle, with a running error bound -----------------------------------------------

u = unit_roundoff(np.float32)


def _dense(x: np.ndarray, ex: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x @ W + b over the last axis of x; W may be (in, ...), flattened here."""
    w = kernel.reshape(x.shape[-1], -1)
    b = bias.reshape(-1)
    prod = np.abs(x) @ np.abs(w)
    y = x @ w + b
    e = gamma(x.shape[-1]) * prod + ex @ np.abs(w) + u * (prod + np.abs(b))
    return y, e


def _layer_norm(x: np.ndarray, ex: np.ndarray, scale: np.ndarray, bias: np.ndarray,
                eps: float) -> tuple[np.ndarray, np.ndarray]:
    d = x.shape[-1]
    mu = x.mean(-1, keepdims=True)
    c = x - mu
    var = (c * c).mean(-1, keepdims=True)
    r = 1.0 / np.sqrt(var + eps)
    y = c * r * scale + bias
    # Errors, first order; the variance bound covers E[x^2]-E[x]^2 (Flax) and two-pass.
    ax = np.abs(x)
    e_mu = ex.mean(-1, keepdims=True) + (gamma(d) + u) * ax.mean(-1, keepdims=True)
    e2 = (x * x).mean(-1, keepdims=True)
    e_var = (2 * (ax * ex).mean(-1, keepdims=True) + (gamma(d) + 2 * u) * e2
             + 2 * np.abs(mu) * e_mu + u * (mu * mu + var))
    e_c = ex + e_mu + u * np.abs(c)
    rel_r = (e_var + u * (var + eps)) / (2 * (var + eps)) + 4 * u
    e_y = np.abs(scale) * (e_c * r + np.abs(c) * r * rel_r) + 3 * u * (np.abs(c * r * scale) + np.abs(bias))
    return y, e_y


def _gelu(h: np.ndarray, eh: np.ndarray, approximate: bool) -> tuple[np.ndarray, np.ndarray]:
    a = gelu_tanh(h) if approximate else gelu_exact(h)
    return a, GELU_LIPSCHITZ * eh + 8 * u * (np.abs(a) + np.abs(h))


def _attention(x: np.ndarray, ex: np.ndarray, p: BlockParams) -> tuple[np.ndarray, np.ndarray]:
    """Self-attention over the sequence axis of x: (B, S, d)."""
    heads, hd = p.query[1].shape
    bsz, seq, _ = x.shape

    def proj(w: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        y, e = _dense(x, ex, *w)
        return y.reshape(bsz, seq, heads, hd), e.reshape(bsz, seq, heads, hd)

    (q, eq), (k, ek), (v, ev) = proj(p.query), proj(p.key), proj(p.value)
    q, eq = q / math.sqrt(hd), eq / math.sqrt(hd) + 2 * u * np.abs(q) / math.sqrt(hd)
    s = np.einsum("bqhd,bkhd->bhqk", q, k)
    abs_s = np.einsum("bqhd,bkhd->bhqk", np.abs(q), np.abs(k))
    es = (gamma(hd) * abs_s + np.einsum("bqhd,bkhd->bhqk", eq, np.abs(k))
          + np.einsum("bqhd,bkhd->bhqk", np.abs(q), ek))
    m = s.max(-1, keepdims=True)
    z = np.exp(s - m)
    pr = z / z.sum(-1, keepdims=True)
    # dp_i = p_i (ds_i - sum_j p_j ds_j); rounding: subtract, exp, sum (gamma_S), divide.
    rnd = u * np.abs(s - m) + 3 * u
    ep = pr * (es + (pr * es).sum(-1, keepdims=True)) + \
        pr * (rnd + (pr * rnd).sum(-1, keepdims=True) + gamma(seq) + u)
    o = np.einsum("bhqk,bkhd->bqhd", pr, v)
    eo = (gamma(seq) * np.einsum("bhqk,bkhd->bqhd", pr, np.abs(v))
          + np.einsum("bhqk,bkhd->bqhd", ep, np.abs(v)) + np.einsum("bhqk,bkhd->bqhd", pr, ev))
    o2, eo2 = o.reshape(bsz, seq, heads * hd), eo.reshape(bsz, seq, heads * hd)
    return _dense(o2, eo2, *p.out)


def block_with_bound(x: Any, p: BlockParams, ex: Any = None, eps: float = PYTORCH_LAYER_NORM_EPS,
                     approximate_gelu: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(output, first-order float32 error bound without margin) of one block on x: (B, S, d).

    ``eps`` and ``approximate_gelu`` exist to show what Flax's defaults would give.
    """
    x = f64(x)
    ex = np.zeros_like(x) if ex is None else f64(ex)
    a, ea = _attention(x, ex, p)
    r1 = x + a
    h, eh = _layer_norm(r1, ex + ea + u * np.abs(r1), *p.norm1, eps)
    f1, ef1 = _dense(h, eh, *p.fc1)
    g, eg = _gelu(f1, ef1, approximate_gelu)
    f2, ef2 = _dense(g, eg, *p.fc2)
    r2 = h + f2
    return _layer_norm(r2, eh + ef2 + u * np.abs(r2), *p.norm2, eps)


def block(x: Any, p: BlockParams, eps: float = PYTORCH_LAYER_NORM_EPS) -> np.ndarray:
    return block_with_bound(x, p, eps=eps)[0]


def stack(x: Any, p: BlockParams, num_layers: int, eps: float = PYTORCH_LAYER_NORM_EPS,
          approximate_gelu: bool = False) -> tuple[np.ndarray, Tolerance]:
    """The block applied ``num_layers`` times, and the tolerance for a float32 run of it."""
    y, e = f64(x), np.zeros(np.shape(x))
    for _ in range(num_layers):
        y, e = block_with_bound(y, p, e, eps, approximate_gelu)
    how = (f"|actual-expected| <= {MARGIN:g} x first-order float32 bound propagated through "
           f"{num_layers} post-LN block(s): gamma_k|x||W| per projection, softmax, exact-GELU "
           f"(Lipschitz {GELU_LIPSCHITZ}) and LayerNorm (eps {eps:g}) error terms, u=2^-24")
    return y, Tolerance(bound=MARGIN * e, derivation=how)


def closest_layout(x: Any, actual: Any, layouts: list[BlockParams], num_layers: int = 1,
                   eps: float = PYTORCH_LAYER_NORM_EPS) -> tuple[BlockParams, np.ndarray, Tolerance]:
    """Of the candidate layouts, the one whose oracle output is nearest ``actual``."""
    best = None
    for p in layouts:
        y, tol = stack(x, p, num_layers, eps)
        score = float(np.max(np.abs(f64(actual) - y) - tol.bound, initial=-np.inf))
        if best is None or score < best[0]:
            best = (score, p, y, tol)
    assert best is not None
    return best[1], best[2], best[3]


# --- PyTorch and Flax nonlinearity defaults -------------------------------------------------

def gelu_exact(x: Any) -> np.ndarray:
    x = f64(x)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_tanh(x: Any) -> np.ndarray:
    x = f64(x)
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x: Any, eps: float) -> tuple[np.ndarray, Tolerance]:
    """LayerNorm over the last axis with scale 1 and bias 0, and the tolerance for float32."""
    x = f64(x)
    d = x.shape[-1]
    y, e = _layer_norm(x, np.zeros_like(x), np.ones(d), np.zeros(d), eps)
    return y, Tolerance(bound=MARGIN * e, derivation=f"{MARGIN:g} x first-order float32 LayerNorm bound "
                                                      f"(mean, variance, rsqrt; eps {eps:g}), u=2^-24")
