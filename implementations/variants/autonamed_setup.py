"""Conforming: document 01's module without name=, which setup() names 'shared' anyway."""

import jax
import jax.numpy as jnp
from flax import linen as nn


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden)

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x))))


def shared_dense_forward(seed, x, hidden):
    model = SharedDense(int(hidden))
    variables = model.init(jax.random.PRNGKey(int(seed)), jnp.asarray(x))
    return model.apply(variables, jnp.asarray(x)).reshape(-1)
