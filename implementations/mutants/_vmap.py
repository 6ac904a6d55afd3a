"""A forward function over any vmapped Dense class, for the document-02 mutants."""

from conformance.implementations.mutants._common import init_apply, key


def forward_with(vmapped_cls, seed, x_batch, features):
    return init_apply(vmapped_cls(features=int(features)), key(seed), x_batch).reshape(-1)
