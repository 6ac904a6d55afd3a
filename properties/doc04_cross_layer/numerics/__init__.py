"""Document 04's numerics: the block's maths, its float64 oracle, float32 drift, and the counting formulas.

- :mod:`.block`: the post-LN block written once, over an arithmetic;
- :mod:`.exact`: float64 with a first-order bound on float32's error;
- :mod:`.drift`: how far float32 runs drift (outputs in NumPy, gradients on the suite's construction);
- :mod:`.oracles`: what the properties compare against, with the tolerance;
- :mod:`.nonlinearities`: PyTorch's GELU and LayerNorm epsilon;
- :mod:`.param_counts`: the document's parameter-count formulas.

Nothing here reads an implementation's parameter layout (:mod:`..reading` does,
and hands over :class:`..params.BlockParams`): the two subpackages do not import
each other.
"""
