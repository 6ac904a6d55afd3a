"""The names an implementation module may export, one table for all five documents.

A module may export any subset; properties that need a missing name report
``not_provided``. Signatures follow the documents' "Problem" sections.
:data:`OPTIONS` are names a module may also export to tell the suite about
itself (which share modes it supports, which leaf is which piece); no property
needs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Export:
    name: str
    document: str
    signature: str
    summary: str


EXPORTS: tuple[Export, ...] = (
    Export(
        "SharedDense",
        "01",
        "SharedDense(hidden)",
        "Linen module: one Dense(hidden) declared in setup(), applied twice, relu after each call",
    ),
    Export(
        "shared_dense_forward",
        "01",
        "shared_dense_forward(seed, x, hidden) -> (N*hidden,)",
        "init SharedDense on (PRNGKey(seed), x), apply, flatten; x is (N, hidden)",
    ),
    Export(
        "VmappedDense",
        "02",
        "VmappedDense(features=F)",
        "nn.vmap over nn.Dense with params broadcast (no batch axis) and one init key",
    ),
    Export(
        "nn_vmap_forward",
        "02",
        "nn_vmap_forward(seed, x_batch, features) -> (B*F,)",
        "init VmappedDense on (PRNGKey(seed), x_batch), apply, flatten",
    ),
    Export(
        "shared_params_two_modules",
        "03",
        "shared_params_two_modules(seed, x, features) -> (F,)",
        "nnx.Linear kernel reused as a Linen Dense kernel; returns the sum of both outputs",
    ),
    Export(
        "TransformerBlock",
        "04",
        "TransformerBlock(d_model, num_heads, d_ff)",
        "post-LN block: LN1(x + MHA(x)), then LN2(x + FFN(x)) with exact GELU",
    ),
    Export(
        "UnsharedTransformer",
        "04",
        "UnsharedTransformer(num_layers, d_model, num_heads, d_ff)",
        "num_layers distinct blocks",
    ),
    Export(
        "SharedTransformer",
        "04",
        "SharedTransformer(num_layers, d_model, num_heads, d_ff, share='all')",
        "one block (or one sub-layer, share='ffn'/'attention') reused num_layers times",
    ),
    Export(
        "MultiParam",
        "05",
        "MultiParam(in_features, out_features, rngs)",
        "nnx module: kernel and bias are Params, count is a Variable holding 0",
    ),
    Export(
        "multi_param_forward",
        "05",
        "multi_param_forward(seed, x, features) -> (F,)",
        "build MultiParam from nnx.Rngs(seed) and return x @ kernel + bias",
    ),
)

BY_NAME: dict[str, Export] = {e.name: e for e in EXPORTS}

# Document 04's share modes: SharedTransformer(share=...) for each, unless the module says otherwise.
SHARE_MODES = ("all", "ffn", "attention")

OPTIONS: tuple[Export, ...] = (
    Export(
        "SHARE_MODES",
        "04",
        "SHARE_MODES = ('all',)",
        "the share modes SharedTransformer supports (default: all three); a property of another mode is "
        "not_provided, and one over several modes checks the supported ones",
    ),
    Export(
        "PARAM_ROLES",
        "04",
        "PARAM_ROLES = {role: 'path/to/leaf' or ('path/to/leaf', columns)}, or a function "
        "(d_model, num_heads, d_ff) -> that dict",
        "which leaf of TransformerBlock's params is which of the 16 roles (q.kernel ... ln2.bias), for a layout "
        "the suite cannot read from shapes and behaviour",
    ),
)

OPTION_BY_NAME: dict[str, Export] = {o.name: o for o in OPTIONS}
