"""A trained candidate as one object: the same features, scaler, network and conformal bands at training and
serving time. TensorFlow is imported only when a network is loaded or called.

Bundle format 2 records the conformal method ("normalized": bands scaled by σ_t, see `training.ml.conformal`).
Format 1 bundles (registered before it) have no method and are served as they were trained: "absolute".
"""

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from training.ml.conformal import (
    ABSOLUTE,
    NORMALIZED,
    band,
    check_method,
    floored_scale,
    scale_feature,
    volatility_scale,
)
from training.ml.features import FeatureConfig, build_features, feature_names

BUNDLE_FILE = "forecaster.json"
NETWORK_FILE = "network.keras"
BUNDLE_FORMAT = 2
READABLE_FORMATS = (1, 2)


@dataclass(frozen=True)
class PointForecast:
    """The next trading day's gold close forecast as of `as_of_date`, with nested 80% and 95% bands."""

    as_of_date: date
    last_close: float
    predicted_return: float
    predicted_close: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the date as an ISO string."""
        return {**asdict(self), "as_of_date": self.as_of_date.isoformat()}


def _scaler_to_dict(scaler: StandardScaler) -> dict[str, Any]:
    return {
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "var": scaler.var_.tolist(),
        "n_samples_seen": int(scaler.n_samples_seen_),
    }


def _scaler_from_dict(data: dict[str, Any]) -> StandardScaler:
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(data["mean"], dtype=float)
    scaler.scale_ = np.asarray(data["scale"], dtype=float)
    scaler.var_ = np.asarray(data["var"], dtype=float)
    scaler.n_samples_seen_ = int(data["n_samples_seen"])
    scaler.n_features_in_ = len(scaler.mean_)
    return scaler


class Forecaster:
    """Predicts the next-day gold log return from closes; price = last close · exp(return).

    `lookback` is the number of feature rows the network reads (1 for the MLP, 0 for naive). The bands are
    last close · exp(return ± quantile · σ_t) with σ_t the `scale_column` feature of the as-of day for the
    "normalized" conformal method, last close · exp(return ± quantile) for the "absolute" one.
    """

    def __init__(
        self,
        *,
        architecture: str,
        feature_config: FeatureConfig,
        lookback: int,
        quantiles: dict[str, float],
        scaler: StandardScaler | None = None,
        target_scale: float = 1.0,
        network=None,
        conformal_method: str = NORMALIZED,
        scale_column: str | None = None,
    ) -> None:
        if architecture != "naive" and (network is None or scaler is None):
            raise ValueError(f"a {architecture} forecaster needs a network and a fitted scaler")
        self.architecture = architecture
        self.feature_config = feature_config
        self.lookback = lookback if architecture != "naive" else 0
        self.quantiles = {"80": float(quantiles["80"]), "95": float(quantiles["95"])}
        self.conformal_method = check_method(conformal_method)
        self.scale_column = scale_column or scale_feature(feature_config)
        names = feature_names(feature_config)
        if self.scale_column not in names:
            raise ValueError(f"{self.scale_column} is not one of the configured features")
        self._scale_position = names.index(self.scale_column)
        self.scaler = scaler
        self.target_scale = float(target_scale)
        self.network = network
        self._predict = None

    @property
    def scaler(self) -> StandardScaler | None:
        return self._scaler

    @scaler.setter
    def scaler(self, scaler: StandardScaler | None) -> None:
        # Serving scales one row with the fitted arrays directly: the same `(x - mean_) / scale_` as
        # `StandardScaler.transform`, without its ~100 µs of input validation per call.
        self._scaler = scaler
        with_mean = scaler is not None and scaler.with_mean
        with_std = scaler is not None and scaler.with_std
        self._scaler_mean = np.asarray(scaler.mean_, dtype=float) if with_mean else None
        self._scaler_scale = np.asarray(scaler.scale_, dtype=float) if with_std else None

    @property
    def feature_rows(self) -> int:
        """Feature rows one forecast reads: the network's window, at least the as-of row for σ_t (0: none)."""
        return max(self.lookback, 1 if self.conformal_method == NORMALIZED else 0)

    @property
    def min_history(self) -> int:
        """Rows of joined closes needed for one forecast."""
        if self.feature_rows == 0:
            return 1
        return self.feature_config.warmup + self.feature_rows

    def predict_returns(self, inputs: np.ndarray | None = None, *, n: int | None = None) -> np.ndarray:
        """Predicted log returns for scaled network inputs (naive: zeros, `n` of them)."""
        if self.architecture == "naive":
            return np.zeros(n if inputs is None else len(inputs))
        if self._predict is None:
            from training.ml.networks import predictor

            self._predict = predictor(self.network)
        return self._predict(inputs) * self.target_scale

    def features(self, closes: pd.DataFrame) -> pd.DataFrame:
        """The feature rows one forecast as of the last row reads, from only the tail of history it needs."""
        features = build_features(closes.iloc[-self.min_history :], self.feature_config)
        if len(features) < self.feature_rows or features.index[-1] != closes.index[-1]:
            raise ValueError(f"a {self.architecture} forecast needs {self.min_history} days of closes")
        return features

    def _inputs(self, values: np.ndarray) -> np.ndarray:
        """The network input from the feature rows (`build_features(...).to_numpy()`) of one forecast."""
        x = values[-self.lookback :]
        if self._scaler_mean is not None:
            x = x - self._scaler_mean
        if self._scaler_scale is not None:
            x = x / self._scaler_scale
        x = x.astype(np.float32)
        return x if self.lookback == 1 else x[np.newaxis]

    def network_inputs(self, closes: pd.DataFrame) -> np.ndarray:
        """The scaled input of one forecast as of the last row, from only the tail of history it needs."""
        return self._inputs(self.features(closes).to_numpy(dtype=float))

    def band_scale(self, features: pd.DataFrame) -> np.ndarray:
        """What the quantiles multiply for each row of `build_features` output: σ (normalized) or 1 (absolute)."""
        if self.conformal_method == ABSOLUTE:
            return np.ones(len(features))
        return volatility_scale(features, self.scale_column)

    def forecast(self, closes: pd.DataFrame) -> PointForecast:
        """The forecast for the trading day after the last row of `closes`."""
        if len(closes) < self.min_history:
            raise ValueError(
                f"a {self.architecture} forecast needs {self.min_history} days of closes, got {len(closes)}"
            )
        gold = closes.columns.get_loc("gold")  # positional: no Series per call
        last_close = float(closes.iat[-1, gold] if isinstance(gold, int) else closes["gold"].iloc[-1])
        # One build_features call on the tail; the rest works on its numpy values.
        values = self.features(closes).to_numpy(dtype=float) if self.feature_rows else None
        if self.architecture == "naive":
            predicted_return = 0.0
        else:
            inputs = self._inputs(values)
            predicted_return = float(self.predict_returns(inputs)[0])
        if self.conformal_method == ABSOLUTE:
            scale = 1.0
        else:  # band_scale of the as-of row
            scale = float(floored_scale(values[-1:, self._scale_position], self.scale_column)[0])
        lower_80, upper_80 = band(last_close, predicted_return, self.quantiles["80"], scale)
        lower_95, upper_95 = band(last_close, predicted_return, self.quantiles["95"], scale)
        return PointForecast(
            as_of_date=pd.Timestamp(closes.index[-1]).date(),
            last_close=last_close,
            predicted_return=predicted_return,
            predicted_close=float(last_close * np.exp(predicted_return)),
            lower_80=float(lower_80),
            upper_80=float(upper_80),
            lower_95=float(lower_95),
            upper_95=float(upper_95),
        )

    def save(self, directory: Path) -> Path:
        """Write forecaster.json (+ network.keras) into `directory`; returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        bundle = {
            "format": BUNDLE_FORMAT,
            "architecture": self.architecture,
            "feature_config": self.feature_config.to_dict(),
            "features": feature_names(self.feature_config),
            "lookback": self.lookback,
            "quantiles": self.quantiles,
            "conformal_method": self.conformal_method,
            "conformal_scale": self.scale_column,
            "target_scale": self.target_scale,
            "scaler": _scaler_to_dict(self.scaler) if self.scaler is not None else None,
        }
        (directory / BUNDLE_FILE).write_text(json.dumps(bundle, indent=2))
        if self.network is not None:
            from training.ml.networks import save_network

            save_network(self.network, directory / NETWORK_FILE)
        return directory

    @classmethod
    def load(cls, directory: Path) -> "Forecaster":
        """Read a saved forecaster; a network is loaded and its compiled call traced once, up front."""
        directory = Path(directory)
        bundle = json.loads((directory / BUNDLE_FILE).read_text())
        if bundle.get("format") not in READABLE_FORMATS:
            raise ValueError(f"unsupported forecaster bundle format {bundle.get('format')!r}")
        network = None
        if bundle["architecture"] != "naive":
            from training.ml.networks import load_network

            network = load_network(directory / NETWORK_FILE)
        forecaster = cls(
            architecture=bundle["architecture"],
            feature_config=FeatureConfig.from_dict(bundle["feature_config"]),
            lookback=bundle["lookback"],
            quantiles=bundle["quantiles"],
            scaler=_scaler_from_dict(bundle["scaler"]) if bundle["scaler"] is not None else None,
            target_scale=bundle["target_scale"],
            network=network,
            # Bundles without a method predate the normalized bands: their quantiles are half-widths.
            conformal_method=bundle.get("conformal_method", ABSOLUTE),
            scale_column=bundle.get("conformal_scale"),
        )
        if network is not None:
            n_features = len(bundle["features"])
            shape = (1, n_features) if forecaster.lookback == 1 else (1, forecaster.lookback, n_features)
            forecaster.predict_returns(np.zeros(shape, dtype=np.float32))
        return forecaster
