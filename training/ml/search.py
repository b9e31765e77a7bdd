"""Hyperopt search spaces: small networks, batch sizes 32-128, learning rate and L2 on log scales."""

import math
from typing import Any

from hyperopt import hp

_COMMON = {
    "dropout": lambda name: hp.uniform(name, 0.0, 0.3),
    "learning_rate": lambda name: hp.loguniform(name, math.log(1e-4), math.log(1e-2)),
    "l2": lambda name: hp.loguniform(name, math.log(1e-6), math.log(1e-2)),
    "batch_size": lambda name: hp.choice(name, [32, 64, 128]),
}
_SPECIFIC = {
    "mlp": {
        "units": lambda name: hp.choice(name, [8, 16, 32, 64]),
        "layers": lambda name: hp.choice(name, [1, 2]),
    },
    "cnn": {
        "filters": lambda name: hp.choice(name, [8, 16, 32]),
        "kernel_size": lambda name: hp.choice(name, [2, 3, 5]),
        "units": lambda name: hp.choice(name, [8, 16, 32]),
    },
    "lstm": {"units": lambda name: hp.choice(name, [8, 16, 32])},
}


def search_space(architecture: str) -> dict[str, Any]:
    """The hyperopt space of one network architecture; sampled points are hyperparameter dicts."""
    if architecture not in _SPECIFIC:
        raise ValueError(f"no search space for {architecture!r}")
    return {name: make(name) for name, make in {**_SPECIFIC[architecture], **_COMMON}.items()}
