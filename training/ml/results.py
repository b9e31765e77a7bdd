"""What one evaluated and registered candidate is: the record a training run mirrors, as JSON-ready data."""

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

_DATE_FIELDS = ("data_start", "data_end", "selection_start", "test_start", "fitted_through")
STAGES = ("cv", "refit", "walk_forward", "bands", "mlflow")  # where a candidate's seconds went


def as_date(value: date | str) -> date:
    """A day of a JSON-ready record (a candidate's dates, its forecast rows, a run's params): the date itself or
    its ISO text. The one reader of these dates, in training and in the forecasts app alike."""
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class CandidateResult:
    """What one registered candidate is, how it scored on CV (decides) and on the walk-forward test (reports)."""

    kind: str
    hyperparameters: dict[str, Any]
    cv_metrics: dict[str, Any]
    test_metrics: dict[str, Any]
    registered_name: str
    version: int
    run_id: str
    model_uri: str
    feature_config: dict[str, Any]
    protocol: dict[str, Any]
    data_start: date
    data_end: date
    selection_start: date  # first CV target date
    test_start: date  # first test target date
    fitted_through: date  # last target date the served model learnt from
    trials: int
    refit_epochs: int | None = None
    intervals: dict[str, Any] = field(default_factory=dict)  # σ model, γ, α_0, split-conformal multipliers
    backtest: list[dict[str, Any]] = field(default_factory=list)  # walk-forward test forecasts
    cv_forecasts: list[dict[str, Any]] = field(default_factory=list)  # out-of-fold CV forecasts, same shape
    cv: dict[str, Any] = field(default_factory=dict)  # OutOfSample.to_dict() of the chosen configuration
    walk_forward: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in _DATE_FIELDS:
            data[name] = data[name].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CandidateResult":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in _DATE_FIELDS:
            values[name] = as_date(values[name])
        return cls(**values)
