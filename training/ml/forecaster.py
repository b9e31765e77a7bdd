"""A served candidate as one object: the feature pipeline, a fitted forecasting method (`training.ml.kinds`)
and its conformal bands, the same at training and serving time. TensorFlow is imported only when a network is
loaded or called.

Bundle format 3 holds any method: `kind` and the method's own JSON state (plus its files, e.g. a network).
Formats 1 and 2 (naive or one network with its scaler) are still read: format 2 records the conformal method
("normalized": bands scaled by σ_t, see `training.ml.conformal`); format 1 has none and is served as it was
trained: "absolute".
"""

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
from training.ml.kinds import Naive, ReturnModel, method_class

BUNDLE_FILE = "forecaster.json"
BUNDLE_FORMAT = 3
READABLE_FORMATS = (1, 2, 3)


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


class Forecaster:
    """Predicts the next-day gold log return from closes with `model`; price = last close · exp(return).

    The bands are last close · exp(return ± quantile · σ_t) with σ_t the `scale_column` feature of the as-of day
    for the "normalized" conformal method, last close · exp(return ± quantile) for the "absolute" one.
    """

    def __init__(
        self,
        *,
        model: ReturnModel,
        feature_config: FeatureConfig,
        quantiles: dict[str, float],
        conformal_method: str = NORMALIZED,
        scale_column: str | None = None,
    ) -> None:
        self.model = model
        self.feature_config = feature_config
        self.quantiles = {"80": float(quantiles["80"]), "95": float(quantiles["95"])}
        self.conformal_method = check_method(conformal_method)
        self.scale_column = scale_column or scale_feature(feature_config)
        names = feature_names(feature_config)
        if self.scale_column not in names:
            raise ValueError(f"{self.scale_column} is not one of the configured features")
        self._scale_position = names.index(self.scale_column)

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def feature_rows(self) -> int:
        """Feature rows one forecast reads: the method's window, at least the as-of row for σ_t (0: none)."""
        return max(self.model.window, 1 if self.conformal_method == NORMALIZED else 0)

    @property
    def min_history(self) -> int:
        """Rows of joined closes needed for one forecast."""
        if self.feature_rows == 0:
            return 1
        return self.feature_config.warmup + self.feature_rows

    def features(self, closes: pd.DataFrame) -> pd.DataFrame:
        """The feature rows one forecast as of the last row reads, from only the tail of history it needs."""
        features = build_features(closes.iloc[-self.min_history :], self.feature_config)
        if len(features) < self.feature_rows or features.index[-1] != closes.index[-1]:
            raise ValueError(f"a {self.kind} forecast needs {self.min_history} days of closes")
        return features

    def band_scale(self, features: pd.DataFrame) -> np.ndarray:
        """What the quantiles multiply for each row of `build_features` output: σ (normalized) or 1 (absolute)."""
        if self.conformal_method == ABSOLUTE:
            return np.ones(len(features))
        return volatility_scale(features, self.scale_column)

    def forecast(self, closes: pd.DataFrame) -> PointForecast:
        """The forecast for the trading day after the last row of `closes`."""
        if len(closes) < self.min_history:
            raise ValueError(f"a {self.kind} forecast needs {self.min_history} days of closes, got {len(closes)}")
        gold = closes.columns.get_loc("gold")  # positional: no Series per call
        last_close = float(closes.iat[-1, gold] if isinstance(gold, int) else closes["gold"].iloc[-1])
        # One build_features call on the tail; the rest works on its numpy values.
        values = self.features(closes).to_numpy(dtype=float) if self.feature_rows else None
        predicted_return = float(self.model.predict_features(values))
        if self.conformal_method == ABSOLUTE:
            scale = 1.0
        else:  # band_scale of the as-of row
            scale = float(floored_scale(values[-1:, self._scale_position], self.scale_column)[0])
        lower_80, upper_80 = band(last_close, predicted_return, self.quantiles["80"], scale)
        lower_95, upper_95 = band(last_close, predicted_return, self.quantiles["95"], scale)
        forecast = PointForecast(
            as_of_date=pd.Timestamp(closes.index[-1]).date(),
            last_close=last_close,
            predicted_return=predicted_return,
            predicted_close=float(last_close * np.exp(predicted_return)),
            lower_80=float(lower_80),
            upper_80=float(upper_80),
            lower_95=float(lower_95),
            upper_95=float(upper_95),
        )
        if not all(np.isfinite(value) for value in asdict(forecast).values() if isinstance(value, float)):
            raise ValueError(f"the {self.kind} forecast as of {forecast.as_of_date} is not finite")
        return forecast

    def save(self, directory: Path) -> Path:
        """Write forecaster.json (+ the method's files) into `directory`; returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        bundle = {
            "format": BUNDLE_FORMAT,
            "kind": self.kind,
            "feature_config": self.feature_config.to_dict(),
            "features": feature_names(self.feature_config),
            "quantiles": self.quantiles,
            "conformal_method": self.conformal_method,
            "conformal_scale": self.scale_column,
            "model": self.model.state(),
        }
        (directory / BUNDLE_FILE).write_text(json.dumps(bundle, indent=2))
        self.model.save_files(directory)
        return directory

    @classmethod
    def load(cls, directory: Path) -> "Forecaster":
        """Read a saved forecaster; a network is loaded and its compiled call traced once, up front."""
        directory = Path(directory)
        bundle = json.loads((directory / BUNDLE_FILE).read_text())
        bundle_format = bundle.get("format")
        if bundle_format not in READABLE_FORMATS:
            raise ValueError(f"unsupported forecaster bundle format {bundle_format!r}")
        if bundle_format == 3:
            model = method_class(bundle["kind"]).load(bundle["model"], directory)
        else:
            model = _load_single_network_bundle(bundle, directory)
        return cls(
            model=model,
            feature_config=FeatureConfig.from_dict(bundle["feature_config"]),
            quantiles=bundle["quantiles"],
            # Bundles without a method predate the normalized bands: their quantiles are half-widths.
            conformal_method=bundle.get("conformal_method", ABSOLUTE),
            scale_column=bundle.get("conformal_scale"),
        )


def _load_single_network_bundle(bundle: dict[str, Any], directory: Path) -> ReturnModel:
    """The method of a format 1 or 2 bundle: naive, or one network with its scaler and target scale."""
    if bundle["architecture"] == "naive":
        return Naive()
    scaler = bundle["scaler"]
    state = {
        "hyperparameters": {},
        "lookback": bundle["lookback"],
        "mean": scaler["mean"],
        "scale": scaler["scale"],
        "target_scale": bundle["target_scale"],
    }
    return method_class(bundle["architecture"]).load(state, directory)
