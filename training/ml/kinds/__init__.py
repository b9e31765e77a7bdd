"""The registry of forecasting methods: every candidate kind, one class each, behind `ReturnModel`.

Simplest first: the order also breaks ties between candidates' CV errors.
"""

from training.ml.kinds.base import FitReport, ReturnModel
from training.ml.kinds.baselines import Drift, Naive
from training.ml.kinds.ensemble import Ensemble
from training.ml.kinds.networks import CNN, LSTM, MLP, Network

METHODS: dict[str, type[ReturnModel]] = {cls.kind: cls for cls in (Naive, Drift, MLP, CNN, LSTM, Ensemble)}
KINDS = tuple(METHODS)
NETWORK_KINDS = tuple(kind for kind, cls in METHODS.items() if issubclass(cls, Network))
BASELINE_KIND = Naive.kind


def method_class(kind: str) -> type[ReturnModel]:
    try:
        return METHODS[kind]
    except KeyError:
        raise ValueError(f"unknown forecasting method {kind!r}; expected one of {', '.join(KINDS)}") from None


__all__ = ["BASELINE_KIND", "KINDS", "METHODS", "NETWORK_KINDS", "FitReport", "ReturnModel", "method_class"]
