"""Flax mutant: nnx.Embed keeps its table as a plain nnx.Variable (not trainable)."""

from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.Embed's embedding is an nnx.Variable, not an nnx.Param"
CAUGHT_BY = ("05-fw-layers-store-params", "03-fw-tied-embedding-one-table")


def patch(mp):
    init = nnx.Embed.__init__

    def variable_table_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.embedding = nnx.Variable(self.embedding[...])

    mp.setattr(nnx.Embed, "__init__", variable_table_init)
