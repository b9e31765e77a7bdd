"""A served candidate as one object: the feature pipeline, a fitted forecasting method (`training.ml.kinds`)
and its conformal bands, the same at training and serving time. TensorFlow is imported only when a network is
loaded or called.

The band of a forecast as of day t is close_t · exp(r̂ ± q·σ_t): σ_t from the version's volatility model
(`training.ml.volatility`), q from its calibration (`training.ml.intervals.Calibration`: split-conformal, or
adaptive at the live state α_t the prediction service passes in).

Bundle format 4 holds any method, its volatility model and its calibration. Older bundles are still read:
format 3 (any method, bands scaled by the 20-day realised volatility), formats 1 and 2 (naive or one network
with its scaler; format 2 "normalized" bands scaled by the `gold_vol_<w>` feature's window, format 1
"absolute" return-space half-widths).
"""

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.ml.conformal import band
from training.ml.features import FeatureConfig, build_features, feature_names
from training.ml.intervals import Calibration
from training.ml.kinds import Naive, ReturnModel, method_class
from training.ml.volatility import Constant, Realised, VolatilityModel, gold_log_returns, volatility_class

BUNDLE_FILE = "forecaster.json"
BUNDLE_FORMAT = 4
READABLE_FORMATS = (1, 2, 3, 4)


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

    The bands are last close · exp(return ± q · σ_t) (see the module docstring).
    """

    def __init__(
        self,
        *,
        model: ReturnModel,
        feature_config: FeatureConfig,
        volatility: VolatilityModel | None = None,
        calibration: Calibration | None = None,
        quantiles: dict[str, float] | None = None,
    ) -> None:
        self.model = model
        self.feature_config = feature_config
        self.volatility = volatility if volatility is not None else Realised()
        if calibration is None:
            calibration = Calibration(quantiles=dict(quantiles or {"80": 0.0, "95": 0.0}))
        self.calibration = calibration

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def quantiles(self) -> dict[str, float]:
        """The split-conformal multipliers of σ_t at the nominal levels."""
        return self.calibration.quantiles

    @property
    def feature_rows(self) -> int:
        """Feature rows one forecast reads: the method's window (0: none)."""
        return self.model.window

    @property
    def min_history(self) -> int:
        """Rows of joined closes needed for one forecast: the method's features and σ_t's returns."""
        features = self.feature_config.warmup + self.feature_rows if self.feature_rows else 1
        return max(features, self.volatility.window + 1)

    def features(self, closes: pd.DataFrame) -> pd.DataFrame:
        """The feature rows one forecast as of the last row reads, from only the tail of history it needs."""
        features = build_features(closes.iloc[-self.min_history :], self.feature_config)
        if len(features) < self.feature_rows or features.index[-1] != closes.index[-1]:
            raise ValueError(f"a {self.kind} forecast needs {self.min_history} days of closes")
        return features

    def sigma(self, gold: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """σ_t of as-of positions in a gold close series (known at each close)."""
        return self.volatility.sigma(gold_log_returns(np.asarray(gold, dtype=float)), positions)

    def forecast(self, closes: pd.DataFrame, *, alpha: dict[str, float] | None = None) -> PointForecast:
        """The forecast for the trading day after the last row of `closes`; `alpha` is the live state of
        adaptive bands ({"80": α_t, "95": α_t}), None for the split-conformal bands."""
        if len(closes) < self.min_history:
            raise ValueError(f"a {self.kind} forecast needs {self.min_history} days of closes, got {len(closes)}")
        gold_column = closes.columns.get_loc("gold")  # positional: no Series per call
        tail = closes.iloc[-self.min_history :]
        gold = tail.iloc[:, gold_column].to_numpy(dtype=float) if isinstance(gold_column, int) else tail["gold"]
        last_close = float(gold[-1])
        # One build_features call on the tail; the rest works on its numpy values.
        values = self.features(closes).to_numpy(dtype=float) if self.feature_rows else None
        predicted_return = float(self.model.predict_features(values))
        window = self.volatility.window
        sigma = self.volatility.sigma_at(np.log(gold[-window:] / gold[-window - 1 : -1])) if window else 1.0
        sigma = max(sigma, 1e-4) if window else sigma
        q = {key: self.calibration.multiplier(key, None if alpha is None else alpha[key]) for key in ("80", "95")}
        lower_80, upper_80 = band(last_close, predicted_return, q["80"], sigma)
        lower_95, upper_95 = band(last_close, predicted_return, q["95"], sigma)
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
            "model": self.model.state(),
            "volatility": {"kind": self.volatility.kind, "state": self.volatility.state()},
            "calibration": self.calibration.to_dict(),
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
        if bundle_format >= 3:
            model = method_class(bundle["kind"]).load(bundle["model"], directory)
        else:
            model = _load_single_network_bundle(bundle, directory)
        if bundle_format >= 4:
            volatility = volatility_class(bundle["volatility"]["kind"]).load(bundle["volatility"]["state"])
            calibration = Calibration.from_dict(bundle["calibration"])
        else:
            volatility, calibration = _legacy_bands(bundle)
        return cls(
            model=model,
            feature_config=FeatureConfig.from_dict(bundle["feature_config"]),
            volatility=volatility,
            calibration=calibration,
        )


def _legacy_bands(bundle: dict[str, Any]) -> tuple[VolatilityModel, Calibration]:
    """Formats 1-3: "normalized" bands scale the `gold_vol_<w>` window's realised volatility; bundles without a
    method predate the normalized bands and their quantiles are return-space half-widths ("absolute")."""
    calibration = Calibration(quantiles={k: float(v) for k, v in bundle["quantiles"].items()})
    if bundle.get("conformal_method", "absolute") == "absolute":
        return Constant(), calibration
    column = bundle.get("conformal_scale") or "gold_vol_20"
    return Realised(int(column.rsplit("_", 1)[-1])), calibration


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
