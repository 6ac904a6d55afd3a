"""Tolerances derived from the dtype and the size of the computation.

An implementation computes in float32 what the oracle computes in float64 from
the same float32 parameters. Standard rounding-error analysis (Higham, *Accuracy
and Stability of Numerical Algorithms*, ch. 3) bounds the float32 result of a
length-k dot product elementwise by ``gamma_k * (|x| @ |W|)`` with
``gamma_k = k u / (1 - k u)`` and ``u`` the unit roundoff. The bounds below
propagate that through the documents' small networks, then apply a stated
safety margin. Every bound carries a sentence saying how it was derived, which
failure messages quote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.kit import drift, precision
from conformance.kit.precision import unit_roundoff

# Covers summation-order and FMA differences between backends, which the
# worst-case bound already includes, plus libm ulps in elementwise ops.
MARGIN = 4.0


def gamma(k: int, dtype: object = np.float32) -> float:
    u = unit_roundoff(dtype)
    return k * u / (1.0 - k * u)


def dot_gamma(k: int, dtype: object = np.float32) -> float:
    """The error factor of a length-k dot product: gamma_k, plus the operands' rounding when a
    float32 matmul runs at reduced precision (TF32 or bfloat16, :mod:`conformance.kit.precision`)."""
    return precision.dot_gamma(k) if np.dtype(dtype) == np.float32 else gamma(k, dtype)


@dataclass(frozen=True)
class Tolerance:
    """Elementwise absolute bound on |actual - expected|, and how it was derived.

    ``magnitude``, where known, is how large the compared values are when their terms do not cancel:
    the largest sum of |terms| in the step that computed them (on the actual float64 operands), over the
    square root of the number of terms, which is how a sum of terms of random sign grows. float32 rounds
    the terms, not their sum: where a result is far smaller than that, it has cancelled, and a correct
    result's error is a fraction of ``magnitude``, however small the result. The tolerance audit
    (:func:`conformance.kit.assertions.assert_close`) judges a bound against the larger of the two.
    """

    bound: np.ndarray
    derivation: str
    magnitude: float | None = None

    def describe(self) -> str:
        return self.derivation

    def rows(self, index: object) -> Tolerance:
        """The bound for a selection of rows (a slice or an index array)."""
        return Tolerance(bound=self.bound[index], derivation=self.derivation, magnitude=self.magnitude)


def _abs(a: object) -> np.ndarray:
    return np.abs(np.asarray(a, dtype=np.float64))


def dense_chain(
    x: object, layers: list[tuple[object, object | None]], *, dtype: object = np.float32, param_rel_error: float = 0.0
) -> Tolerance:
    """Bound for ``act(...act(x W1 + b1)... W_n + b_n)`` with 1-Lipschitz activations (relu between layers).

    The smaller, element by element, of the worst-case bound and the float32
    drift measured on these inputs (:mod:`conformance.kit.drift`): the
    worst-case bound alone allows percents of the output at large widths.
    ``param_rel_error`` adds a relative error in each W (for parameters the
    oracle rebuilt in float64 while the implementation rounded them to float32).
    The measured drift cannot see that, so both bounds add its worst case: a
    few u of |h|@|W|, propagated like any other error.
    """
    u = unit_roundoff(dtype)
    h = _abs(x)
    # The input is exact: no error to carry into the first layer (and no product of zeros).
    err = param_err = floor = None  # param_err: the part of err that comes from rounded parameters
    absolute: dict[int, np.ndarray] = {}  # a kernel shared by several layers is converted once
    for kernel, bias in layers:
        w = absolute.setdefault(id(kernel), None)
        if w is None:
            w = absolute[id(kernel)] = _abs(kernel)
        k = w.shape[-2]  # (in, out), or a stack of them (..., in, out) applied member by member
        prod = h @ w
        b = 0.0 if bias is None else _abs(bias)
        carried = 0.0 if err is None else err @ w
        err = (dot_gamma(k, dtype) + param_rel_error) * prod + carried + u * (prod + b)
        param_err = param_rel_error * prod + (0.0 if param_err is None else param_err @ w)
        floor = u * (prod + b) + (0.0 if floor is None else floor @ w)
        h = prod + b  # |pre-activation| upper bound; relu does not grow it
    steps = f"{len(layers)} dense layer(s)"
    derivation = (
        f"|actual-expected| <= {MARGIN:g} x running bound over {steps}: "
        f"gamma_k*(|h|@|W|) + (err_h@|W|) + u*(|h@W|+|b|)"
        + (f" + {param_rel_error:.2g}*(|h|@|W|) for parameter rounding" if param_rel_error else "")
        + f"; u=2^{int(np.log2(u))} ({np.dtype(dtype).name}), k=input width, {precision.describe()}"
    )
    # A short contraction has few orders to measure (one at width 1): one rounding per term and
    # layer, propagated, is added so that a lucky measurement cannot leave a row without a bound.
    drifted = drift.dense_chain(x, layers).reshape(err.shape) + MARGIN * (floor + param_err)
    rounding = f" + {MARGIN:g} x one rounding per term, u*(|h|@|W|+|b|) propagated"
    if param_rel_error:
        rounding += f", + {param_rel_error:.2g}*(|h|@|W|) for parameter rounding"
    return Tolerance(
        bound=np.minimum(MARGIN * err, drifted),
        derivation=f"the smaller of [{derivation}] and the drift bound [{drift.describe()}{rounding}]",
        magnitude=_last_terms(x, layers),
    )


def uncancelled(terms: np.ndarray, count: int) -> float:
    """:attr:`Tolerance.magnitude` from the sums of |terms| and how many terms each sums."""
    return float(np.max(terms, initial=0.0)) / np.sqrt(max(count, 1))


def _last_terms(x: object, layers: list[tuple[object, object | None]]) -> float:
    """:attr:`Tolerance.magnitude` of the last layer: |a| @ |W| + |b|, ``a`` its actual float64 input (relu
    between layers)."""
    a = np.asarray(x, dtype=np.float64)
    for kernel, bias in layers[:-1]:
        a = np.maximum(a @ np.asarray(kernel, np.float64) + (0.0 if bias is None else np.asarray(bias, np.float64)), 0)
    kernel, bias = layers[-1]
    terms = np.abs(a) @ _abs(kernel) + (0.0 if bias is None else _abs(bias))
    return uncancelled(terms, np.shape(kernel)[-2] + (bias is not None))


def elementwise(expected: object, *, ulps: float, dtype: object = np.float32) -> Tolerance:
    """Bound of ``ulps`` unit roundoffs relative to |expected|, for elementwise results."""
    u = unit_roundoff(dtype)
    bound = ulps * u * _abs(expected)
    return Tolerance(
        bound=MARGIN * bound,
        derivation=f"|actual-expected| <= {MARGIN:g} x {ulps:g} u |expected|, u=2^{int(np.log2(u))}",
    )


def combined(*terms: tuple[float, Tolerance]) -> Tolerance:
    """Bound for a linear combination of independently rounded results."""
    bound = sum(abs(a) * t.bound for a, t in terms)
    known = [abs(a) * t.magnitude for a, t in terms if t.magnitude is not None]
    return Tolerance(
        bound=bound,
        derivation=" + ".join(f"{abs(a):g} x [{t.derivation}]" for a, t in terms),
        magnitude=sum(known) if known else None,
    )


def shared_dense_grads(x: object, kernel: object, bias: object, dtype: object = np.float32) -> dict[str, Tolerance]:
    """Bounds for the kernel and bias gradients of sum(relu(relu(xK+b)K+b)).

    Backprop is a chain of dot products like the forward pass: each product of
    length k contributes gamma_k times the product of absolute values, and the
    forward error of h1 enters the second call site's kernel gradient.
    """
    u = unit_roundoff(dtype)
    xa, k = _abs(x), _abs(kernel)
    n, width = xa.shape
    h1 = xa @ k + _abs(bias)  # bound on |h1|
    err_h1 = dense_chain(x, [(kernel, bias)]).bound / MARGIN
    # |g2| <= 1 everywhere, so every row of |g1| <= |g2| @ |K|^T is |K|'s row sums s, and the kernel's sums over
    # the batch are outer products: |x|^T |g1| = a s^T with a = |x|'s column sums, |h1|^T |g2| = c 1^T with c =
    # |h1|'s column sums, err(g1) = gamma_width |g1|, err(h1)^T |g2| = e 1^T with e = err(h1)'s column sums.
    s = k.sum(1)
    a, c, e = xa.sum(0), h1.sum(0), err_h1.sum(0)
    site1 = np.multiply.outer(a, s)
    both = site1 + c[:, None]  # |x|^T|g1| + |h1|^T|g2|
    err_kernel = (dot_gamma(n, dtype) + u) * both
    err_kernel += dot_gamma(width, dtype) * site1
    err_kernel += e[:, None]
    g1_sum, g2_sum = n * s, np.full(width, float(n))
    err_bias = dot_gamma(n, dtype) * (g1_sum + g2_sum) + dot_gamma(width, dtype) * g1_sum + u * (g1_sum + g2_sum)
    how = (
        f"{MARGIN:g} x backprop bound: gamma_n*(|x|^T|g1| + |h1|^T|g2|) + |x|^T err(g1) + err(h1)^T|g2|, "
        f"|g2|<=1, u=2^{int(np.log2(u))}, {precision.describe()}"
    )
    drifted = drift.shared_dense_grads(x, kernel, bias)
    how = f"the smaller of [{how}] and the drift bound [{drift.describe()} + {MARGIN:g} x one rounding per term]"
    terms = _grad_terms(x, kernel, bias)
    # min(MARGIN x worst case, drift + MARGIN x one rounding per term), in place over the kernel's width^2 entries.
    kernel_bound = np.minimum(np.multiply(err_kernel, MARGIN, out=err_kernel), (MARGIN * u) * both + drifted["kernel"])
    bias_bound = np.minimum(MARGIN * err_bias, drifted["bias"] + MARGIN * u * (g1_sum + g2_sum))
    return {
        "kernel": Tolerance(kernel_bound, how, terms["kernel"]),
        "bias": Tolerance(bias_bound, how, terms["bias"]),
    }


def _grad_terms(x: object, kernel: object, bias: object) -> dict[str, float]:
    """:attr:`Tolerance.magnitude` of each gradient of sum(relu(relu(xK+b)K+b)), from the |terms| summed on
    actual float64 values: |x|^T |g1| + |h1|^T |g2| for the kernel, sum |g1| + sum |g2| for the bias (2n terms)."""
    x64, _, h1, g2, g1 = drift.shared_dense_backprop(x, kernel, bias)
    count = 2 * x64.shape[0]
    return {
        "kernel": uncancelled(np.abs(x64).T @ np.abs(g1) + h1.T @ g2, count),
        "bias": uncancelled(np.abs(g1).sum(0) + g2.sum(0), count),
    }
