"""The shapes of ModelVersion's JSON fields, for the OpenAPI schema of `/api/models/` (drf-spectacular).

These serializers only document: the API returns the stored dicts as they are (`evidence_json_field` below), so a key
added later appears in responses before it is documented here, and a key a version never stored (legacy versions,
naive's p, the interval scores of versions made before the bands were scored) is simply absent. Every key is
therefore optional. The bands' keys (issue 11) are `IntervalScoresSchema` (in both cv_metrics and test_metrics),
`IntervalChoiceSchema` (cv_metrics.interval_choice) and `IntervalsSchema` (ModelVersion.intervals).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

OPTIONAL = {"required": False}
NULLABLE = {"required": False, "allow_null": True}


class FoldSchema(serializers.Serializer):
    fold = serializers.IntegerField(help_text="1 = the earliest fold.", **OPTIONAL)
    start = serializers.DateField(help_text="First target day of the fold.", **OPTIONAL)
    end = serializers.DateField(help_text="Last target day of the fold.", **OPTIONAL)
    n = serializers.IntegerField(help_text="Trading days forecast in the fold.", **OPTIONAL)
    mae = serializers.FloatField(help_text="Mean absolute error in dollars.", **OPTIONAL)
    naive_mae = serializers.FloatField(help_text="Naive's MAE on the same days, dollars.", **OPTIONAL)
    rmae = serializers.FloatField(help_text="mae / naive_mae; below 1 beats naive.", **NULLABLE)
    best_epoch = serializers.IntegerField(help_text="Early-stopping epoch of a network; null otherwise.", **NULLABLE)


class LegacyValidationSchema(serializers.Serializer):
    mae = serializers.FloatField(help_text="Validation MAE of the single window, dollars.", **NULLABLE)


def _levels(name: str, field: type[serializers.Field], help_texts: dict[str, str]) -> type[serializers.Serializer]:
    """A serializer with the fields "80" and "95" (not Python names, so declared through `type`)."""
    fields = {key: field(help_text=text, **OPTIONAL) for key, text in help_texts.items()}
    return type(name, (serializers.Serializer,), fields)


AlphaSchema = _levels(
    "AlphaSchema",
    serializers.FloatField,
    {"80": "Working miss rate α of the 80% band (nominal 0.20).", "95": "α of the 95% band (nominal 0.05)."},
)
QuantilesSchema = _levels(
    "QuantilesSchema",
    serializers.FloatField,
    {
        "80": "Split-conformal multiplier q of σ_t for the 80% band (the pooled CV scores' quantile).",
        "95": "q of the 95% band.",
    },
)
HeldSchema = _levels(
    "HeldSchema",
    serializers.IntegerField,
    {"80": "Scored live days whose close fell inside the 80% band.", "95": "… inside the 95% band."},
)


class BandStateSchema(serializers.Serializer):
    alpha = AlphaSchema(help_text="α_t after the scored live days: α_0 + γ·Σ(α − miss).", **OPTIONAL)
    days = serializers.IntegerField(help_text="Scored live forecasts of this version replayed.", **OPTIONAL)
    held = HeldSchema(help_text="Of those days, how many closes fell inside each band.", **OPTIONAL)
    through = serializers.DateField(help_text="Target date of the last scored live forecast.", **NULLABLE)


class IntervalsSchema(serializers.Serializer):
    volatility = serializers.ChoiceField(
        choices=["realised", "ewma", "garch", "constant"],
        help_text="The σ_t model that scales the bands, chosen on CV: realised (20-day), ewma (RiskMetrics, "
        "λ = 0.94), garch (GARCH(1,1)); constant on versions with absolute bands.",
        **OPTIONAL,
    )
    volatility_label = serializers.CharField(help_text="The σ model in words.", **OPTIONAL)
    gamma = serializers.FloatField(
        help_text="Adaptive conformal step γ chosen on CV (0: plain split-conformal bands).", **OPTIONAL
    )
    alpha0 = AlphaSchema(help_text="The live starting state: α where the walk-forward replay ended.", **OPTIONAL)
    quantiles = QuantilesSchema(help_text="Split-conformal multipliers of σ_t at the nominal levels.", **OPTIONAL)
    calibration_days = serializers.IntegerField(help_text="CV days whose scores calibrate the bands.", **OPTIONAL)
    state = BandStateSchema(
        help_text="The live state, stored by the scoring step once a live forecast of the version is scored.",
        **OPTIONAL,
    )


class RegimeCoverageSchema(serializers.Serializer):
    n = serializers.IntegerField(help_text="Days of the window in this volatility tercile.", **OPTIONAL)
    sigma_max = serializers.FloatField(help_text="Largest 20-day realised volatility in the tercile.", **OPTIONAL)
    coverage_80 = serializers.FloatField(help_text="0-1: share of its closes inside the 80% band.", **NULLABLE)
    coverage_95 = serializers.FloatField(help_text="0-1: share inside the 95% band.", **NULLABLE)
    width_80 = serializers.FloatField(help_text="Mean width of the 80% band on those days, dollars.", **NULLABLE)
    width_95 = serializers.FloatField(help_text="Mean width of the 95% band on those days, dollars.", **NULLABLE)


class CoverageByRegimeSchema(serializers.Serializer):
    calm = RegimeCoverageSchema(help_text="The third of the days with the lowest volatility.", **OPTIONAL)
    normal = RegimeCoverageSchema(help_text="The middle third.", **OPTIONAL)
    volatile = RegimeCoverageSchema(help_text="The third with the highest volatility.", **OPTIONAL)


class IntervalScoresSchema(serializers.Serializer):
    """The bands of one window scored as a probabilistic forecast (training.ml.metrics)."""

    coverage_80 = serializers.FloatField(help_text="0-1: share of closes inside the 80% band.", **NULLABLE)
    coverage_95 = serializers.FloatField(help_text="0-1: share of closes inside the 95% band.", **NULLABLE)
    width_80 = serializers.FloatField(help_text="Mean width of the 80% band, dollars.", **NULLABLE)
    width_95 = serializers.FloatField(help_text="Mean width of the 95% band, dollars.", **NULLABLE)
    winkler_80 = serializers.FloatField(
        help_text="Winkler interval score of the 80% band, dollars: width plus 2/α × the distance of each close "
        "outside it (lower is better).",
        **NULLABLE,
    )
    winkler_95 = serializers.FloatField(help_text="Winkler interval score of the 95% band, dollars.", **NULLABLE)
    pinball = serializers.FloatField(
        help_text="Mean pinball loss at the band quantiles 2.5%, 10%, 50%, 90%, 97.5%, dollars.", **NULLABLE
    )
    crps = serializers.FloatField(
        help_text="CRPS of the distribution those five quantiles define (twice the mean pinball loss), dollars.",
        **NULLABLE,
    )
    coverage_by_regime = CoverageByRegimeSchema(
        help_text="Coverage and width per volatility regime: terciles of the 20-day realised volatility over the "
        "window; absent on versions made before the bands were scored.",
        **OPTIONAL,
    )


class IntervalChoiceSchema(serializers.Serializer):
    volatility = serializers.CharField(help_text="σ model tried: realised, ewma or garch.", **OPTIONAL)
    gamma = serializers.FloatField(help_text="Adaptive conformal γ tried.", **OPTIONAL)
    winkler_80 = serializers.FloatField(help_text="CV Winkler score of the 80% band, dollars.", **NULLABLE)
    winkler_95 = serializers.FloatField(help_text="CV Winkler score of the 95% band, dollars.", **NULLABLE)
    coverage_80 = serializers.FloatField(help_text="0-1: CV coverage of the 80% band.", **NULLABLE)
    coverage_95 = serializers.FloatField(help_text="0-1: CV coverage of the 95% band.", **NULLABLE)
    score = serializers.FloatField(help_text="winkler_80 + winkler_95: the lowest won.", **NULLABLE)


class CVMetricsSchema(IntervalScoresSchema):
    mae = serializers.FloatField(help_text="Pooled out-of-fold MAE over the selection period, dollars.", **OPTIONAL)
    naive_mae = serializers.FloatField(help_text="Naive's pooled MAE on the same days, dollars.", **OPTIONAL)
    rmae = serializers.FloatField(help_text="mae / naive_mae; below 1 beats naive.", **NULLABLE)
    n = serializers.IntegerField(help_text="Cross-validated trading days.", **OPTIONAL)
    dm_statistic = serializers.FloatField(help_text="Diebold–Mariano statistic (HLN-corrected).", **NULLABLE)
    p_value = serializers.FloatField(
        help_text="One-sided Diebold–Mariano p that the version's absolute errors are smaller than naive's.",
        **NULLABLE,
    )
    dm_lag = serializers.IntegerField(help_text="Newey–West lag of the DM variance.", **NULLABLE)
    best_epochs = serializers.ListField(
        child=serializers.IntegerField(), help_text="Early-stopping epoch per fold (networks only).", **OPTIONAL
    )
    fit_seconds = serializers.FloatField(help_text="Seconds spent fitting the folds.", **NULLABLE)
    folds = FoldSchema(many=True, help_text="The rolling-origin folds, earliest first.", **OPTIONAL)
    interval_choice = IntervalChoiceSchema(
        many=True,
        help_text="Every σ model × γ replayed over the CV days (cross-conformal); the lowest score was chosen.",
        **OPTIONAL,
    )
    legacy_validation = LegacyValidationSchema(
        help_text="Only on versions made before the rolling-origin protocol: their single validation window.",
        **OPTIONAL,
    )


class TestMetricsSchema(IntervalScoresSchema):
    mae = serializers.FloatField(help_text="Walk-forward test MAE, dollars.", **NULLABLE)
    rmse = serializers.FloatField(help_text="Root mean squared error, dollars.", **NULLABLE)
    mape = serializers.FloatField(help_text="Mean absolute percentage error, percent.", **NULLABLE)
    r2 = serializers.FloatField(help_text="R² of the predicted closes.", **NULLABLE)
    r2_return = serializers.FloatField(help_text="R² of the predicted returns.", **NULLABLE)
    directional_accuracy = serializers.FloatField(help_text="0-1: share of days with the direction right.", **NULLABLE)
    naive_mae = serializers.FloatField(help_text="Naive's MAE on the same days, dollars.", **NULLABLE)
    rmae = serializers.FloatField(help_text="mae / naive_mae; below 1 beats naive.", **NULLABLE)
    n = serializers.IntegerField(help_text="Test days.", **NULLABLE)
    dm_statistic = serializers.FloatField(help_text="Diebold–Mariano statistic against naive (reported).", **NULLABLE)
    p_value = serializers.FloatField(help_text="One-sided DM p against naive on the test days (reported).", **NULLABLE)
    refits = serializers.IntegerField(help_text="Walk-forward refits over the test window.", **NULLABLE)
    fit_seconds = serializers.FloatField(help_text="Seconds spent on the walk-forward refits.", **NULLABLE)


class ProtocolSchema(serializers.Serializer):
    test_days = serializers.IntegerField(help_text="Trading days of the walk-forward test window.", **OPTIONAL)
    selection_days = serializers.IntegerField(help_text="Trading days cross-validated before it.", **OPTIONAL)
    folds = serializers.IntegerField(help_text="Rolling-origin folds of the selection period.", **OPTIONAL)
    retrain_every = serializers.IntegerField(help_text="Trading days between walk-forward refits.", **OPTIONAL)
    lookback = serializers.IntegerField(help_text="Days of history a sequence network sees.", **OPTIONAL)


class FeatureConfigSchema(serializers.Serializer):
    lags = serializers.IntegerField(help_text="Return lags.", **OPTIONAL)
    ma_window = serializers.IntegerField(help_text="Moving-average window, days.", **OPTIONAL)
    vol_windows = serializers.ListField(
        child=serializers.IntegerField(), help_text="Realised-volatility windows, days.", **OPTIONAL
    )


class ProvenanceSchema(serializers.Serializer):
    library_versions = serializers.DictField(
        child=serializers.CharField(), help_text="Library -> version the model was made with.", **OPTIONAL
    )
    code_commit = serializers.CharField(
        help_text='Git commit of the code that made it ("unknown" if none).', **OPTIONAL
    )


class NaiveIntervalsSchema(serializers.Serializer):
    id = serializers.IntegerField(help_text="The run's naive version.")
    label = serializers.CharField(help_text='e.g. "gold-next-day v1 (naive)".')
    cv = IntervalScoresSchema(help_text="Its bands on the same CV days.")
    test = IntervalScoresSchema(help_text="Its bands on the same walk-forward test days.")


def evidence_json_field(schema: type[serializers.Serializer], **kwargs) -> serializers.JSONField:
    """A read-only JSONField documented with `schema`."""
    field_class = extend_schema_field(schema)(type(f"{schema.__name__}JSONField", (serializers.JSONField,), {}))
    return field_class(read_only=True, **kwargs)
