"""Is a model better than naive? The one-sided Diebold–Mariano test on absolute errors.

d_t = |e_naive,t| − |e_model,t| (positive when the model is closer). Under H0 (equal accuracy) the mean of d
is 0; H1 is that the model's expected absolute error is lower. The variance of the mean is the Newey–West
(Bartlett-kernel) long-run variance with lag L = ⌊4·(T/100)^(2/9)⌋ (the Newey–West 1994 rule; 5 for 500
days): one-step-ahead loss differentials of daily gold are autocorrelated through volatility clustering even
though the forecasts are one step ahead. The statistic gets the Harvey–Leybourne–Newbold small-sample
correction √((T + 1 − 2h + h(h − 1)/T) / T) with h = 1 and is compared with Student's t on T − 1 degrees of
freedom. A degenerate series (no variance) is "no evidence": p = 1.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

HORIZON = 1


@dataclass(frozen=True)
class DieboldMariano:
    statistic: float
    p_value: float  # one-sided: the model beats naive
    lag: int
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def newey_west_lag(n: int) -> int:
    return int(math.floor(4 * (n / 100) ** (2 / 9)))


def long_run_variance(d: np.ndarray, lag: int) -> float:
    """γ0 + 2·Σ_{k=1..L} (1 − k/(L+1))·γk of a series (autocovariances about its mean, divided by T)."""
    centred = d - d.mean()
    n = len(d)
    variance = float(centred @ centred) / n
    for k in range(1, min(lag, n - 1) + 1):
        variance += 2 * (1 - k / (lag + 1)) * float(centred[k:] @ centred[:-k]) / n
    return variance


def diebold_mariano(model_abs_errors, naive_abs_errors, *, lag: int | None = None) -> DieboldMariano:
    """One-sided DM test (HLN-corrected, Newey–West variance) that the model's absolute errors are smaller."""
    from scipy import stats

    model = np.asarray(model_abs_errors, dtype=float)
    naive = np.asarray(naive_abs_errors, dtype=float)
    if model.shape != naive.shape or model.ndim != 1:
        raise ValueError("the model's and naive's errors must be two series of the same days")
    n = len(model)
    if n < 3:
        raise ValueError(f"a Diebold–Mariano test needs at least 3 days, got {n}")
    lag = newey_west_lag(n) if lag is None else lag
    d = naive - model
    variance = long_run_variance(d, lag)
    if not math.isfinite(variance) or variance <= 1e-18 * max(1.0, float(np.mean(d * d))):
        return DieboldMariano(statistic=0.0, p_value=1.0, lag=lag, n=n)
    statistic = float(d.mean() / math.sqrt(variance / n))
    h = HORIZON
    corrected = statistic * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    p_value = float(stats.t.sf(corrected, df=n - 1))
    return DieboldMariano(statistic=corrected, p_value=p_value, lag=lag, n=n)
