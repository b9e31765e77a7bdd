"""Generated and real closes for the ML tests."""

from pathlib import Path

import numpy as np
import pandas as pd


def random_walk_closes(days: int = 600, *, seed: int = 0, start: str = "2020-01-02") -> pd.DataFrame:
    """Gold and S&P 500 closes as correlated geometric random walks on business days."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start, periods=days, name="date")
    shocks = rng.standard_t(df=5, size=(days, 2)) * np.array([0.009, 0.011])
    shocks[:, 0] += 0.2 * shocks[:, 1]
    prices = np.array([1800.0, 3200.0]) * np.exp(np.cumsum(shocks, axis=0))
    return pd.DataFrame({"gold": prices[:, 0], "spx": prices[:, 1]}, index=index)


def read_yahoo_closes(path: Path) -> pd.Series:
    """Close column of a ../shared/data CSV (Date as dd/mm/yyyy)."""
    frame = pd.read_csv(path)
    dates = pd.to_datetime(frame["Date"], format="%d/%m/%Y")
    return pd.Series(frame["Close"].to_numpy(dtype=float), index=pd.DatetimeIndex(dates))
