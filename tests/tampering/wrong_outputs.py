"""Not a tampering route: the wrong implementation the routes beside it hide.

The reference's forward functions with every output scaled by 1.5. Judged
honestly (or with ``--isolate-calls``), the forward-function properties fail.
"""

from conformance.implementations import reference
from conformance.implementations.reference import *  # noqa: F403 - the rest of the contract, unchanged


def shared_dense_forward(seed, x, hidden):
    return reference.shared_dense_forward(seed, x, hidden) * 1.5


def multi_param_forward(seed, x, features):
    return reference.multi_param_forward(seed, x, features) * 1.5
