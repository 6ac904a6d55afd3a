"""Flax mutant: a submodule created in setup() without name= is named after its class, not its attribute."""

from flax import linen as nn
from flax.linen import module as linen_module

DOCUMENT = "01"
DEFECT = "setup() submodules auto-named Dense_0 instead of after the attribute"
CAUGHT_BY = ("01-fw-setup-name-from-attribute",)


def patch(mp):
    original = nn.Module.__post_init__

    def post_init(self):
        parent = self.parent
        if parent is linen_module._unspecified_parent:  # Flax fills it in from the module stack
            parent = linen_module._context.module_stack[-1]
        if self.name is None and isinstance(parent, nn.Module) and parent._state.in_setup:
            object.__setattr__(self, "name", f"{type(self).__name__}_0")
        original(self)

    mp.setattr(nn.Module, "__post_init__", post_init)
