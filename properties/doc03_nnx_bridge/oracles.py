"""Document 03's float64 oracles: the two modules' summed output, and the tied embedding."""

from __future__ import annotations

import numpy as np

from conformance.kit import tied_embedding, tolerances
from conformance.kit.oracles import dense, f64


def twice_dense_tolerance(x, kernel) -> tolerances.Tolerance:
    """Bound for nnx(x) + linen(x): two independently rounded products, one addition."""
    one = tolerances.dense_chain(x[None, :], [(kernel, None)])
    u = tolerances.unit_roundoff()
    return tolerances.Tolerance(
        bound=(2 * one.bound + u * 2 * np.abs(dense(x[None, :], kernel)))[0],
        derivation=f"2 x [{one.derivation}] + u*|sum| for the addition",
        magnitude=None if one.magnitude is None else 2 * one.magnitude,
    )


def tied_lm(table, tokens, weights) -> tuple[np.ndarray, np.ndarray, tolerances.Tolerance, tolerances.Tolerance]:
    """logits = E[t] @ E^T and d sum(W * logits) / dE = W^T E[t] (head) + scatter_t(W E) (lookup), with bounds."""
    logits_tol = tolerances.dense_chain(f64(table)[tokens], [(table.T, None)])
    return (
        tied_embedding.logits(tokens, table),
        tied_embedding.grads(tokens, table, weights)["total"],
        logits_tol,
        tied_embedding.grads_tolerance(tokens, table, weights),
    )
