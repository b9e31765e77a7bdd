"""σ_t: the volatility estimate that scales a band, known at the close of day t. One small class per model.

A band is close_t · exp(r̂_t ± q·σ_t): conformal scores are |r − r̂| / σ_t, so a good σ_t makes the scores
exchangeable across calm and volatile markets. The candidates, chosen per version on the CV interval score
(`training.ml.intervals`), never on the test window:

- `realised`: the sample std of the last 20 daily gold log returns (the `gold_vol_20` feature).
- `ewma`: RiskMetrics, σ²_t = Σ_k (1 − λ)·λ^k·r²_{t−k} / (1 − λ^W) over the last W = 120 returns, λ = 0.94
  (the weight of returns beyond 120 days is 0.94^120 ≈ 0.0006: truncated so a forecast needs a bounded tail).
- `garch`: GARCH(1,1) with zero mean, fitted (`arch` package) on the returns of the fit span, refitted with
  the model; σ_t is its one-step-ahead conditional volatility for day t+1 given returns up to t, filtered over
  the last W = 250 returns from the unconditional variance.

Each reads only returns up to its as-of day: `sigma(returns, positions)` with `returns[p]` the log return into
closes position p, so the same history gives the same σ at training and serving time.
"""

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

MIN_SIGMA = 1e-4  # a daily log-return std floor; gold's is ~0.004-0.02


def gold_log_returns(gold: np.ndarray) -> np.ndarray:
    """r[p] = log(gold[p] / gold[p−1]); r[0] is NaN."""
    returns = np.full(len(gold), np.nan)
    returns[1:] = np.log(gold[1:] / gold[:-1])
    return returns


def _trailing(returns: np.ndarray, position: int, window: int) -> np.ndarray:
    """The returns into positions max(1, p − window + 1) .. p (r[0] is undefined)."""
    return returns[max(1, position - window + 1) : position + 1]


class VolatilityModel(ABC):
    kind: ClassVar[str]
    label: ClassVar[str]
    window: ClassVar[int]  # trailing returns one σ reads

    def fit(self, returns: np.ndarray, last_position: int) -> "VolatilityModel":
        """Learn from returns into positions 1..last_position (the fit span); most models learn nothing."""
        return self

    @abstractmethod
    def sigma_at(self, trailing: np.ndarray) -> float:
        """σ from the trailing returns of one as-of day (oldest first, at most `window` of them)."""

    def sigma(self, returns: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """σ_t of each as-of position, floored at MIN_SIGMA."""
        values = np.array([self.sigma_at(_trailing(returns, int(p), self.window)) for p in positions])
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{self.kind} volatility is not finite")
        return np.maximum(values, MIN_SIGMA)

    def state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls, state: dict[str, Any]) -> "VolatilityModel":
        return cls()


class Constant(VolatilityModel):
    """σ ≡ 1: the absolute (return-space half-width) bands of versions registered before σ_t scaling."""

    kind = "constant"
    label = "none (absolute bands)"
    window = 0

    def sigma_at(self, trailing: np.ndarray) -> float:
        return 1.0

    def sigma(self, returns: np.ndarray, positions: np.ndarray) -> np.ndarray:
        return np.ones(len(positions))


class Realised(VolatilityModel):
    kind = "realised"
    label = "20-day realised volatility"
    window = 20

    def __init__(self, window: int = 20) -> None:
        self.window = int(window)

    def sigma_at(self, trailing: np.ndarray) -> float:
        return float(np.std(trailing, ddof=1)) if len(trailing) >= 2 else MIN_SIGMA

    def state(self) -> dict[str, Any]:
        return {"window": self.window}

    @classmethod
    def load(cls, state: dict[str, Any]) -> "Realised":
        return cls(state.get("window", 20))


class EWMA(VolatilityModel):
    kind = "ewma"
    label = "EWMA volatility (RiskMetrics, λ = 0.94)"
    window = 120
    decay = 0.94

    def sigma_at(self, trailing: np.ndarray) -> float:
        if len(trailing) == 0:
            return MIN_SIGMA
        weights = self.decay ** np.arange(len(trailing))[::-1]  # the newest return weighs most
        return float(np.sqrt(np.sum(weights * trailing**2) / np.sum(weights)))


class GARCH(VolatilityModel):
    kind = "garch"
    label = "GARCH(1,1) volatility"
    window = 250
    SCALE = 100.0  # arch fits percent returns best

    def __init__(self, omega: float | None = None, alpha: float | None = None, beta: float | None = None):
        self.omega, self.alpha, self.beta = omega, alpha, beta

    def fit(self, returns: np.ndarray, last_position: int) -> "GARCH":
        from arch import arch_model

        span = returns[1 : last_position + 1] * self.SCALE
        result = arch_model(span, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
        params = result.params
        self.omega = float(params["omega"]) / self.SCALE**2
        self.alpha = float(params["alpha[1]"])
        self.beta = float(params["beta[1]"])
        return self

    def _unconditional(self, trailing: np.ndarray) -> float:
        persistence = self.alpha + self.beta
        if persistence < 0.999:
            return self.omega / (1.0 - persistence)
        return float(np.mean(trailing**2))  # integrated: no unconditional variance, start from the sample

    def sigma_at(self, trailing: np.ndarray) -> float:
        if self.omega is None:
            raise ValueError("the GARCH volatility is not fitted")
        if len(trailing) == 0:
            return MIN_SIGMA
        variance = self._unconditional(trailing)
        for value in trailing:  # σ²_{t+1|t} = ω + α·r²_t + β·σ²_{t|t−1}
            variance = self.omega + self.alpha * value * value + self.beta * variance
        return float(np.sqrt(variance))

    def state(self) -> dict[str, Any]:
        return {"omega": self.omega, "alpha": self.alpha, "beta": self.beta}

    @classmethod
    def load(cls, state: dict[str, Any]) -> "GARCH":
        return cls(state["omega"], state["alpha"], state["beta"])


VOLATILITY_MODELS: dict[str, type[VolatilityModel]] = {cls.kind: cls for cls in (Realised, EWMA, GARCH)}
LEGACY_MODELS: dict[str, type[VolatilityModel]] = {Constant.kind: Constant}


def volatility_class(kind: str) -> type[VolatilityModel]:
    try:
        return {**VOLATILITY_MODELS, **LEGACY_MODELS}[kind]
    except KeyError:
        raise ValueError(f"unknown volatility model {kind!r}; expected one of {', '.join(VOLATILITY_MODELS)}") from None
