"""The shapes of ModelVersion's JSON fields, for the OpenAPI schema of `/api/models/` (drf-spectacular).

These serializers only document: the API returns the stored dicts as they are (`evidence_json_field` below), so a key
added later (an interval score, say) appears in responses before it is documented here, and a key a version never
stored (legacy versions, naive's p) is simply absent. Every key is therefore optional.
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


class CVMetricsSchema(serializers.Serializer):
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
    legacy_validation = LegacyValidationSchema(
        help_text="Only on versions made before the rolling-origin protocol: their single validation window.",
        **OPTIONAL,
    )


class TestMetricsSchema(serializers.Serializer):
    mae = serializers.FloatField(help_text="Walk-forward test MAE, dollars.", **NULLABLE)
    rmse = serializers.FloatField(help_text="Root mean squared error, dollars.", **NULLABLE)
    mape = serializers.FloatField(help_text="Mean absolute percentage error, percent.", **NULLABLE)
    r2 = serializers.FloatField(help_text="R² of the predicted closes.", **NULLABLE)
    r2_return = serializers.FloatField(help_text="R² of the predicted returns.", **NULLABLE)
    directional_accuracy = serializers.FloatField(help_text="0-1: share of days with the direction right.", **NULLABLE)
    naive_mae = serializers.FloatField(help_text="Naive's MAE on the same days, dollars.", **NULLABLE)
    rmae = serializers.FloatField(help_text="mae / naive_mae; below 1 beats naive.", **NULLABLE)
    coverage_80 = serializers.FloatField(help_text="0-1: share of closes inside the 80% band.", **NULLABLE)
    coverage_95 = serializers.FloatField(help_text="0-1: share of closes inside the 95% band.", **NULLABLE)
    width_80 = serializers.FloatField(help_text="Mean width of the 80% band, dollars.", **NULLABLE)
    width_95 = serializers.FloatField(help_text="Mean width of the 95% band, dollars.", **NULLABLE)
    n = serializers.IntegerField(help_text="Test days.", **NULLABLE)
    dm_statistic = serializers.FloatField(help_text="Diebold–Mariano statistic against naive (reported).", **NULLABLE)
    p_value = serializers.FloatField(help_text="One-sided DM p against naive on the test days (reported).", **NULLABLE)
    refits = serializers.IntegerField(help_text="Walk-forward refits over the test window.", **NULLABLE)
    fit_seconds = serializers.FloatField(help_text="Seconds spent on the walk-forward refits.", **NULLABLE)
    winkler_80 = serializers.FloatField(
        help_text="Winkler interval score of the 80% band, dollars (lower is better); absent until recorded.",
        **NULLABLE,
    )
    winkler_95 = serializers.FloatField(help_text="Winkler interval score of the 95% band; when recorded.", **NULLABLE)
    pinball = serializers.FloatField(help_text="Mean pinball loss of the band quantiles; when recorded.", **NULLABLE)
    crps = serializers.FloatField(help_text="Continuous ranked probability score; when recorded.", **NULLABLE)
    coverage_by_regime = serializers.DictField(help_text="Coverage per volatility regime; when recorded.", **OPTIONAL)


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


def evidence_json_field(schema: type[serializers.Serializer], **kwargs) -> serializers.JSONField:
    """A read-only JSONField documented with `schema`."""
    field_class = extend_schema_field(schema)(type(f"{schema.__name__}JSONField", (serializers.JSONField,), {}))
    return field_class(read_only=True, **kwargs)
