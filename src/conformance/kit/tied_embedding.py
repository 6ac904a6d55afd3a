"""A tied embedding in NumPy float64: one (vocab, d) table looked up for the tokens and reused,
transposed, as the output projection. Documents 01 and 03 both check it.

The loss is ``sum(weights * logits)``, so that every logit has its own
cotangent and the table's two uses get different gradients.
"""

from __future__ import annotations

import numpy as np

from conformance.kit import drift, precision, tolerances
from conformance.kit.oracles import f64


def logits(tokens: object, embedding: object) -> np.ndarray:
    """The looked-up rows h = E[tokens] against every row of E: h E^T."""
    e = f64(embedding)
    return e[np.asarray(tokens)] @ e.T


def grads(tokens: object, embedding: object, weights: object) -> dict[str, np.ndarray]:
    """Gradient of sum(weights * h E^T) w.r.t. E, split by the table's two roles.

    ``projection`` is weights^T h (E as the output projection), ``lookup`` adds
    the rows of weights E onto the rows the tokens looked up (E as the input
    embedding); the table's gradient, ``total``, is their sum.
    """
    e, w, tokens = f64(embedding), f64(weights), np.asarray(tokens)
    projection = w.T @ e[tokens]
    lookup = np.zeros_like(e)
    np.add.at(lookup, tokens, w @ e)
    return {"projection": projection, "lookup": lookup, "total": projection + lookup}


def grads_tolerance(tokens: object, embedding: object, weights: object) -> tolerances.Tolerance:
    """Bound on the float32 gradient of sum(weights * h E^T) w.r.t. E.

    The smaller of the worst case and the measured drift. Worst case: the
    projection side is a dot product of length n (tokens); the lookup side a dot
    product of length V (vocabulary) per token, then a sum over the tokens that
    share a row (at most n terms); the two sides are added.
    """
    tokens = np.asarray(tokens)
    e, w = np.abs(f64(embedding)), np.abs(f64(weights))
    n, vocab = w.shape
    u = tolerances.unit_roundoff()
    projection = w.T @ e[tokens]
    lookup = np.zeros_like(e)
    np.add.at(lookup, tokens, w @ e)
    err = (
        (tolerances.dot_gamma(n) + u) * projection
        + (tolerances.dot_gamma(vocab) + tolerances.gamma(n) + u) * lookup  # the scatter adds up to n rows
        + u * (projection + lookup)
    )
    how = (
        f"{tolerances.MARGIN:g} x (gamma_n |W|^T|E[t]| + (gamma_V + gamma_n) scatter_t(|W||E|) + u-terms), "
        f"n={n} tokens, V={vocab}, u=2^{int(np.log2(u))}, {precision.describe()}"
    )

    def float32_run(order: int) -> np.ndarray:
        e32, w32 = np.asarray(embedding, np.float32), np.asarray(weights, np.float32)
        lookup32 = np.zeros_like(e32)
        np.add.at(lookup32, tokens, drift.matmul(w32, e32, order))
        return drift.matmul(w32.T, e32[tokens], order) + lookup32

    expected = grads(tokens, embedding, weights)["total"]
    drifted = drift.drift_bound(float32_run, expected) + tolerances.MARGIN * u * (projection + lookup)
    return tolerances.Tolerance(
        np.minimum(tolerances.MARGIN * err, drifted),
        f"the smaller of [{how}] and the drift bound [{drift.describe()} + {tolerances.MARGIN:g} x one rounding per term]",
        magnitude=tolerances.uncancelled(projection + lookup, n + vocab),  # n tokens, V per lookup row
    )
