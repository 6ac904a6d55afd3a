"""A user's solution file outside the repo: the bundled answers, re-exported under a file of its own."""

from conformance.implementations.reference import (  # noqa: F401
    MultiParam,
    SharedDense,
    SharedTransformer,
    TransformerBlock,
    UnsharedTransformer,
    VmappedDense,
    multi_param_forward,
    nn_vmap_forward,
    shared_dense_forward,
    shared_params_two_modules,
)
