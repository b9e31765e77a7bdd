"""`GET /api/accuracy/`: the champion against the naive forecast, the live record's evidence and its live bands."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasts.apis.common import query_filters
from forecasts.models import Forecast
from forecasts.selectors.accuracy import ACCURACY_WINDOWS, LIVE_EVIDENCE_MIN, forecast_accuracy
from training.schemas import AlphaSchema, CoverageByRegimeSchema, HeldSchema


class AccuracyMetricsOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The model version.")
    label = serializers.CharField()
    architecture = serializers.CharField()
    n = serializers.IntegerField()
    mae = serializers.FloatField(help_text="Dollars.")
    mape = serializers.FloatField(help_text="Percent.")
    direction_hit_rate = serializers.FloatField(allow_null=True, help_text="0-1; null for the naive model.")
    coverage_80 = serializers.FloatField(help_text="0-1: share of actual closes inside the 80% band.")


class LiveEvidenceOutputSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Scored live days of the champion paired with a naive live forecast.")
    required = serializers.IntegerField(help_text="Live days needed before rmae and p_value are reported.")
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    rmae = serializers.FloatField(
        allow_null=True, help_text="Champion MAE / naive MAE over those live days; null below `required` days."
    )
    p_value = serializers.FloatField(
        allow_null=True,
        help_text=(
            "One-sided Diebold–Mariano p that the champion's absolute errors are smaller than naive's on those "
            "days; null below `required` days or when the champion is the naive model."
        ),
    )
    dm_statistic = serializers.FloatField(allow_null=True, help_text="The HLN-corrected Diebold–Mariano statistic.")
    dm_lag = serializers.IntegerField(allow_null=True, help_text="Newey–West lag of the test's variance.")
    beats_naive = serializers.BooleanField(allow_null=True, help_text="p_value < CHAMPION_MAX_P.")
    note = serializers.CharField(help_text='e.g. "12 live forecasts scored; evidence needs 20."')


class LiveBandStateOutputSerializer(serializers.Serializer):
    volatility = serializers.CharField(allow_null=True, help_text="The σ model of the bands: realised, ewma, garch.")
    volatility_label = serializers.CharField(allow_null=True, help_text="The σ model in words.")
    gamma = serializers.FloatField(allow_null=True, help_text="Adaptive conformal step γ (0: split-conformal bands).")
    alpha0 = AlphaSchema(help_text="α of each band where the walk-forward replay ended: the live starting state.")
    alpha = AlphaSchema(help_text="α of each band now, after the version's scored live days: α_0 + γ·Σ(α − miss).")
    days = serializers.IntegerField(help_text="Scored live forecasts of the version the state has replayed.")
    held = HeldSchema(help_text="Of those days, how many closes fell inside each band.")
    through = serializers.DateField(allow_null=True, help_text="Target date of the last of them.")


class BandCalibrationOutputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=["live", "backtest"],
        allow_null=True,
        help_text="live: the champion's last `window` scored live days; backtest: fewer live days than the window, "
        "so the walk-forward test's coverage per regime (its test_metrics.coverage_by_regime); null: neither.",
    )
    n = serializers.IntegerField(help_text="Days behind the coverage.")
    by_regime = CoverageByRegimeSchema(help_text="Observed coverage per volatility tercile.")
    note = serializers.CharField(allow_blank=True, help_text="Which days, in words.")


class LiveBandsOutputSerializer(serializers.Serializer):
    window = serializers.IntegerField(help_text="The window asked for: the last this many scored live days.")
    n = serializers.IntegerField(help_text="Scored live forecasts of the champion in the window (late ones never).")
    start = serializers.DateField(allow_null=True, help_text="Target date of the first of them.")
    end = serializers.DateField(allow_null=True, help_text="Target date of the last of them.")
    held_80 = serializers.IntegerField(help_text="Of those days, closes inside the 80% band.")
    held_95 = serializers.IntegerField(help_text="Of those days, closes inside the 95% band.")
    coverage_80 = serializers.FloatField(allow_null=True, help_text="held_80 / n (0-1); null without live days.")
    coverage_95 = serializers.FloatField(allow_null=True, help_text="held_95 / n (0-1); null without live days.")
    by_regime = CoverageByRegimeSchema(
        help_text="Coverage on the calm, normal and volatile third of those days: terciles of the 20-day realised "
        "gold volatility at each forecast's as-of day, from the stored closes; empty below three distinct values."
    )
    winkler_80 = serializers.FloatField(
        allow_null=True, help_text="The champion's Winkler score of the 80% band over the winkler_n days, dollars."
    )
    naive_winkler_80 = serializers.FloatField(
        allow_null=True, help_text="The naive forecast's Winkler score of its 80% band over the same days."
    )
    winkler_n = serializers.IntegerField(help_text="Days of the window the naive forecast also forecast live.")
    state = LiveBandStateOutputSerializer(
        allow_null=True, help_text="The champion's adaptive bands' state; null when its bands are not adaptive."
    )
    calibration = BandCalibrationOutputSerializer(
        help_text="Observed coverage per regime as the dashboard's calibration chart draws it."
    )
    text = serializers.CharField(help_text='In words: "The 80% band held on 17 of the last 20 days (95%: 19 of 20)."')


class AccuracyApi(APIView):
    class FilterSerializer(serializers.Serializer):
        window = serializers.ChoiceField(
            choices=ACCURACY_WINDOWS, required=False, default=ACCURACY_WINDOWS[0], help_text="Trading days."
        )

    class OutputSerializer(serializers.Serializer):
        window = serializers.IntegerField()
        source = serializers.ChoiceField(choices=Forecast.Kind.values, allow_null=True)
        n = serializers.IntegerField()
        live_n = serializers.IntegerField(
            help_text="Scored live forecast days paired with the naive forecast (late forecasts never count)."
        )
        note = serializers.CharField(allow_blank=True)
        start = serializers.DateField(allow_null=True)
        end = serializers.DateField(allow_null=True)
        rmae = serializers.FloatField(allow_null=True, help_text="Champion MAE / naive MAE on the same days.")
        champion = AccuracyMetricsOutputSerializer(allow_null=True)
        naive = AccuracyMetricsOutputSerializer(allow_null=True)
        evidence = LiveEvidenceOutputSerializer(
            help_text=(
                f"The live record's evidence (late forecasts never count): from {LIVE_EVIDENCE_MIN} scored live "
                "days on, the champion's rMAE and a Diebold–Mariano p against naive over them, whatever `source` is."
            )
        )
        bands = LiveBandsOutputSerializer(
            help_text="The live band record: whether the champion's 80% and 95% bands held on its last `window` "
            "scored live days, per volatility regime, its Winkler 80% against naive's and the adaptive state "
            "(live days only, whatever `source` is)."
        )

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request):
        accuracy = forecast_accuracy(**query_filters(request, self.FilterSerializer))
        return Response(self.OutputSerializer(accuracy).data)
