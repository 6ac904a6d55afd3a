"""Flax mutant: every Linen param is stored boxed with (empty) sharding metadata, as nn.with_partitioning would."""

from flax import linen as nn

DOCUMENT = "03"
DEFECT = "Linen's params dict holds nn.Partitioned boxes instead of plain arrays"
CAUGHT_BY = ("03-fw-params-are-plain-arrays",)


def patch(mp):
    param = nn.Module.param

    def boxed_param(self, name, init_fn, *args, **kwargs):
        def boxed(*init_args):
            value = init_fn(*init_args)
            return nn.Partitioned(value, names=(None,) * value.ndim)

        return param(self, name, boxed, *args, **kwargs)  # the module itself still gets the unboxed array

    mp.setattr(nn.Module, "param", boxed_param)
