"""The real history in ../shared/data as the benchmarks read it: one reader for every script."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FILES = {"gold": "gold_data.csv", "spx": "sp500.csv"}


def read_yahoo_close(path: Path):
    """The Close column of a ../shared/data CSV (Date as dd/mm/yyyy) as a dated Series."""
    import pandas as pd

    frame = pd.read_csv(path)
    dates = pd.to_datetime(frame["Date"], format="%d/%m/%Y")
    return pd.Series(frame["Close"].to_numpy(dtype=float), index=pd.DatetimeIndex(dates), name=path.stem)


def read_shared_closes():
    """Gold and S&P 500 closes on their common days, or None when ../shared/data is absent."""
    from training.ml.features import join_closes

    paths = {name: DATA / file for name, file in FILES.items()}
    if not all(path.is_file() for path in paths.values()):
        return None
    return join_closes(read_yahoo_close(paths["gold"]), read_yahoo_close(paths["spx"]))
