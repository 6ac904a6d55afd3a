"""A model's layers in the order it runs them: which attention, FFN and LayerNorms each layer uses.

The block's roles (:mod:`.roles`) say what one attention, FFN or LayerNorm of
this implementation looks like, and where q, k, v, out, fc1, fc2, scale and
bias sit inside it. A model (UnsharedTransformer, or SharedTransformer with
``share='ffn'`` or ``'attention'``) holds such pieces once per layer or once
for all layers. They are found by shape, each attention and FFN by the
relative paths of its units, stacked copies (``nn.scan``) slice by slice.

Which layer uses which piece is asked of the model itself. Zeroing a
LayerNorm's scale makes everything after it see only its bias, so every
parameter used before it stops mattering (its gradient becomes exactly zero)
while everything after it still matters. The set of pieces a LayerNorm
silences grows along the stack: sorted by that set, the 2L LayerNorms come out
in the order the model runs them (LN1 then LN2 of layer 1, then of layer 2, and
so on); a layer's attention is the piece that falls silent with its LN1, its
FFN the one that falls silent with its LN2, and a piece shared by several
layers falls silent only with the last of them. One compiled program (the
model's output and gradient), run 2L + 1 times, reads a whole stack.

A model whose pieces do not behave like a post-LN stack is reported as
unreadable (verdict ``error``); one with a piece that never affects its output
fails the claim that reads it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.kit.memo import remembered
from conformance.kit.strategies import random_params
from conformance.kit.trees import flat_shapes, map_leaves

from .. import calls
from ..params import BlockParams
from .roles import PROBE_BATCH, BlockRoles
from .units import LayoutUnreadable, Ref

KINDS = {"attention": ("q", "k", "v", "o"), "ffn": ("fc1", "fc2")}
LEAVES = ("kernel", "bias")


def natural_key(path: str, index: int | None = None) -> tuple:
    """Order of a place in a layout: 'layers_2' before 'layers_10', integer keys by value, then the stacked index."""
    return (
        tuple(tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", c)) for c in path.split("/") if c),
        -1 if index is None else index,
    )


@dataclass(frozen=True)
class Piece:
    """One attention, FFN or LayerNorm of a model: its place, and its roles (``q.kernel``, ``scale``, ...)."""

    kind: str
    root: str
    index: int | None
    refs: tuple[tuple[str, Ref], ...]

    @property
    def where(self) -> str:
        return (self.root or "/") + ("" if self.index is None else f"[{self.index}]")

    def ref(self, role: str) -> Ref:
        return dict(self.refs)[role]

    def grad_norm(self, grads: Any) -> float:
        return float(np.sqrt(sum(float(np.sum(ref.read(grads) ** 2)) for _, ref in self.refs)))


@dataclass(frozen=True)
class Layer:
    attention: Piece
    ffn: Piece
    ln1: Piece
    ln2: Piece

    def refs(self) -> dict[str, Ref]:
        out = dict(self.attention.refs) | dict(self.ffn.refs)
        for name, piece in (("ln1", self.ln1), ("ln2", self.ln2)):
            out.update({f"{name}.{leaf}": ref for leaf, ref in piece.refs})
        return out

    def pieces(self) -> dict[str, Piece]:
        return {"attention": self.attention, "ffn": self.ffn, "ln1": self.ln1, "ln2": self.ln2}


@dataclass(frozen=True)
class Stack:
    """A model's layers in the order it runs them (as read by behaviour, see the module's docstring)."""

    dims: tuple[int, int, int]
    layers: tuple[Layer, ...]

    def _roles(self, layer: Layer) -> BlockRoles:
        return BlockRoles(self.dims, layer.refs(), "probes", True)

    def read(self, params: Any) -> list[BlockParams]:
        """Each layer's parameters, in the order the model runs the layers."""
        return [self._roles(layer).read(params) for layer in self.layers]

    def write(self, shapes: Any, values: list[BlockParams]) -> Any:
        """A params tree shaped like ``shapes`` with ``values[i]`` in layer i's pieces (a shared piece gets
        the last layer's value that names it)."""
        tree = map_leaves(lambda a: np.zeros(np.shape(a), np.float32), shapes)
        for layer, value in zip(self.layers, values):
            tree = self._roles(layer).fill(tree, value)
        return tree

    def users(self, piece: Piece) -> list[int]:
        """The layers (0-based, in running order) that use ``piece``."""
        return [i for i, layer in enumerate(self.layers) if piece in layer.pieces().values()]

    def shared(self, kind: str) -> list[Piece]:
        """Pieces of ``kind`` ('attention', 'ffn', 'ln1', 'ln2') that more than one layer uses."""
        seen = []
        for layer in self.layers:
            p = layer.pieces()[kind]
            if p not in seen and len(self.users(p)) > 1:
                seen.append(p)
        return seen

    def out_of_order(self) -> str | None:
        """Where running order and layout order disagree: each kind's own pieces, taken in the order the layers
        run, must sit in the layout's natural order ('layers_2' before 'layers_10', a stacked axis by index)."""
        for kind in ("attention", "ffn", "ln1", "ln2"):
            own = [layer.pieces()[kind] for layer in self.layers]
            own = [p for i, p in enumerate(own) if p not in own[:i]]
            keys = [natural_key(p.root, p.index) for p in own]
            if keys != sorted(keys):
                return (
                    f"the layers run their {kind} pieces in the order {[p.where for p in own]}, not in the order "
                    f"they sit in the parameters ({[p.where for p in sorted(own, key=lambda p: natural_key(p.root, p.index))]})"
                )
        return None

    def describe(self) -> str:
        return "; ".join(
            f"layer {i + 1}: " + ", ".join(f"{k} {p.where}" for k, p in layer.pieces().items())
            for i, layer in enumerate(self.layers)
        )


# --- finding the pieces by shape -----------------------------------------------------------


def _unit_of(ref: Ref) -> tuple[str, str]:
    unit, _, leaf = ref.path.rpartition("/")
    return unit, leaf


def _common_root(paths: list[str]) -> str:
    parts = [p.split("/") for p in paths]
    common = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common)


def _templates(roles: BlockRoles) -> dict[str, dict[str, Ref]]:
    """Each kind of piece as the block holds it: role -> Ref relative to the piece's root."""
    out = {}
    for kind, names in KINDS.items():
        refs = {f"{n}.{leaf}": roles.refs[f"{n}.{leaf}"] for n in names for leaf in LEAVES}
        root = _common_root([_unit_of(r)[0] for r in refs.values()])
        out[kind] = {role: Ref(r.path[len(root) :], r.split, r.cols, r.note) for role, r in refs.items()}
    for n in ("ln1", "ln2"):
        refs = {leaf: roles.refs[f"{n}.{leaf}"] for leaf in ("scale", "bias")}
        root = _unit_of(refs["scale"])[0]
        out[n] = {leaf: Ref(r.path[len(root) :]) for leaf, r in refs.items()}
    return out


def _find(
    template: dict[str, Ref],
    kind: str,
    model: dict[str, tuple[int, ...]],
    block: dict[str, tuple[int, ...]],
    stacked: int | None,
) -> list[Piece]:
    """Every place in ``model`` holding the template's leaves with the block's shapes (or stacked ``stacked`` times)."""
    rel = {role: ref.path for role, ref in template.items()}
    first = next(iter(rel.values()))
    out = []
    for path, _shape in model.items():
        if not path.endswith(first):
            continue
        root = path[: len(path) - len(first)]
        leaves = {role: model.get(root + p) for role, p in rel.items()}
        want = {role: block[p] for role, p in rel.items()}
        if leaves == want:
            out.append(Piece(kind, root, None, tuple((r, _rooted(template[r], root, None)) for r in template)))
        elif stacked and all(s is not None and s[1:] == want[r] and s[0] == stacked for r, s in leaves.items()):
            out += [
                Piece(kind, root, i, tuple((r, _rooted(template[r], root, i)) for r in template))
                for i in range(stacked)
            ]
    return out


def _rooted(ref: Ref, root: str, index: int | None) -> Ref:
    return Ref(root + ref.path, ref.split, ref.cols, ref.note, index)


def _pieces(
    roles: BlockRoles, block_shapes: Any, model_shapes: Any, num_layers: int, what: str
) -> dict[str, list[Piece]]:
    templates = _templates(roles)
    model, block = flat_shapes(model_shapes), flat_shapes(block_shapes)
    found: dict[str, list[Piece]] = {}
    for kind, template in templates.items():
        block_rooted = {r.path: block[roles.refs[_block_role(kind, role)].path] for role, r in template.items()}
        found[kind] = _find(template, "norm" if kind in ("ln1", "ln2") else kind, model, block_rooted, num_layers)
    # LN1 and LN2 usually look alike: one LayerNorm is one piece, whichever template it matched.
    norms = {p.refs: p for p in found.pop("ln1") + found.pop("ln2")}
    found["norm"] = sorted(norms.values(), key=lambda p: natural_key(p.root, p.index))
    used = {ref.path for pieces in found.values() for p in pieces for _, ref in p.refs}
    stray = sorted(set(model) - used)
    if stray:
        raise LayoutUnreadable(
            what, f"leaves {stray[:4]} belong to no attention, FFN or LayerNorm shaped like the block's"
        )
    return found


def _block_role(kind: str, role: str) -> str:
    return f"{kind}.{role}" if kind in ("ln1", "ln2") else role


# --- which layer uses which piece, by behaviour ----------------------------------------------


def _layers(
    impl,
    export: str,
    args: tuple,
    share: str | None,
    x_shape: tuple,
    shapes: Any,
    found: dict[str, list[Piece]],
    what: str,
) -> list[Layer]:
    rng = np.random.default_rng(0)
    x, r = (rng.standard_normal(x_shape).astype(np.float32) for _ in range(2))
    params = random_params(shapes, 0)
    pieces = [p for kind in ("attention", "ffn", "norm") for p in found[kind]]
    _, grads = calls.out_and_grad(impl, export, args, params, x, r, share)
    base = {p: p.grad_norm(grads) for p in pieces}
    idle = [p.where for p in pieces if base[p] == 0.0]
    if idle:
        raise AssertionError(
            f"{calls.describe(export, args, share)}: the output's gradient with respect to "
            f"{', '.join(idle[:4])} is zero: those parameters never affect the output, or their "
            f"gradient is stopped"
        )

    # Silent means a gradient of exactly zero: what runs before the zeroed scale is multiplied by 0.0 on the way
    # back. What runs after it can still matter very little, not nothing: every token is then the same vector,
    # so attention's query and key stop mattering, and the rest of such a piece's gradient fell to 5e-4 of its
    # baseline in a 19-layer stack at d_model 4 on three tokens (a relative threshold misread that stack).
    def silenced_by(norm: Piece) -> set[Piece]:
        _, g = calls.out_and_grad(impl, export, args, norm.ref("scale").write(params, 0.0), x, r, share)
        return {p for p in pieces if p != norm and p.grad_norm(g) == 0.0}

    silenced = {n: silenced_by(n) for n in found["norm"]}
    norms = sorted(found["norm"], key=lambda n: len(silenced[n]))
    for a, b in itertools.pairwise(norms):
        if not (silenced[a] | {a}) <= silenced[b]:
            raise LayoutUnreadable(
                what,
                f"zeroing the scale of the LayerNorm at {b.where} leaves parameters at "
                f"{sorted(p.where for p in silenced[a] - silenced[b])[:3]} mattering that "
                f"zeroing {a.where} silences: the model does not run as a post-LN stack",
            )
    chosen: dict[str, list[Piece | None]] = {"attention": [], "ffn": []}
    before: set[Piece] = set()
    for ln1, ln2 in zip(norms[0::2], norms[1::2]):
        for kind, new in (("attention", silenced[ln1] - before), ("ffn", silenced[ln2] - silenced[ln1])):
            fresh = [p for p in new if p.kind == kind]
            if len(fresh) > 1:
                raise LayoutUnreadable(
                    what,
                    f"several {kind} pieces ({[p.where for p in fresh]}) fall silent "
                    f"together: one layer cannot use them all",
                )
            chosen[kind].append(fresh[0] if fresh else None)
        before = silenced[ln2]
    for kind, per_layer in chosen.items():  # a shared piece falls silent with the last layer that uses it
        later = None
        for i in reversed(range(len(per_layer))):
            later = per_layer[i] = per_layer[i] or later
        if later is None or any(p is None for p in per_layer):
            raise LayoutUnreadable(what, f"no {kind} piece falls silent with the last layer's LayerNorms")
    return [Layer(a, f, n1, n2) for a, f, n1, n2 in zip(chosen["attention"], chosen["ffn"], norms[0::2], norms[1::2])]


_FOUND: dict[tuple, Stack | Exception] = {}


def read_stack(
    impl, export: str, args: tuple, share: str | None, roles: BlockRoles, x_shape: tuple | None = None
) -> Stack:
    """The layers of ``export(*args, share=share)`` in the order it runs them (cached per class, sizes and mode).

    The probes run the model on inputs of ``x_shape`` (default (2, 4, d_model)): a property that also takes the
    model's gradient at its own input shape passes that shape, and the two share one compiled program.
    """
    x_shape = tuple(x_shape) if x_shape is not None else (*PROBE_BATCH, args[1])
    what = calls.describe(export, args, share)

    def read() -> Stack:
        shapes = calls.param_shapes(impl, export, args, share)
        block_shapes = calls.param_shapes(impl, "TransformerBlock", roles.dims)
        found = _pieces(roles, block_shapes, shapes, args[0], what)
        if len(found["norm"]) != 2 * args[0]:
            raise LayoutUnreadable(what, f"found {len(found['norm'])} LayerNorms for {args[0]} layers, expected 2L")
        return Stack(roles.dims, tuple(_layers(impl, export, args, share, x_shape, shapes, found, what)))

    key = (impl.get(export), id(impl.option("PARAM_ROLES")), tuple(args), share, x_shape)
    return remembered(_FOUND, key, read)
