"""Token API for prices, forecasts, accuracy and on-demand prediction: one APIView per operation.

Everything needs a signed-in user (token or session) except `POST /api/auth/token/`, which exchanges a
username and password for a token. Bad query values answer 400 with a message per field.
"""

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from forecasts.models import NEXT_DAY_KIND_CHOICES, Forecast, PriceBar
from forecasts.selectors.accuracy import ACCURACY_WINDOWS, LIVE_EVIDENCE_MIN, forecast_accuracy
from forecasts.selectors.forecasts import data_age, forecast_latest_answer, forecast_list
from forecasts.selectors.live_record import live_forecast_missing_bars
from forecasts.selectors.prices import price_bars_list
from forecasts.services.api_tokens import api_token_get_or_create
from forecasts.services.prediction import forecast_next_day_ensure
from training.models import ModelVersion
from training.schemas import AlphaSchema, CoverageByRegimeSchema, HeldSchema


class DateRangeFilterSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day, inclusive (YYYY-MM-DD).")
    end = serializers.DateField(required=False, help_text="Last day, inclusive (YYYY-MM-DD).")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"end": "The end date must not be before the start date."})
        return attrs


KIND_HELP = (
    "live: stored before its target day's gold close was; late: stored after it (kept and scored, never counted "
    "as live); backtest: a walk-forward test day; cv: an out-of-fold cross-validation day."
)


class ForecastOutputSerializer(serializers.ModelSerializer):
    model_version_label = serializers.CharField(source="model_version.__str__", read_only=True)
    architecture = serializers.CharField(source="model_version.architecture", read_only=True)

    class Meta:
        model = Forecast
        fields = [
            "id",
            "model_version",
            "model_version_label",
            "architecture",
            "kind",
            "target_date",
            "as_of_date",
            "last_close",
            "predicted_return",
            "predicted_close",
            "lower_80",
            "upper_80",
            "lower_95",
            "upper_95",
            "actual_close",
            "error",
            "abs_pct_error",
            "direction_hit",
            "inside_80",
            "inside_95",
            "scored_at",
            "created_at",
        ]
        extra_kwargs = {"kind": {"help_text": KIND_HELP}}


class TokenObtainApi(APIView):
    """Exchange a username and password for the user's API token (created on first use)."""

    authentication_classes: list = []  # a stale token header must not turn this into a 401
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes reads (and marks) the plain Django request, so that one is passed on.
        user = authenticate(request=request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise serializers.ValidationError({"non_field_errors": ["Unable to sign in with those credentials."]})
        token, _ = api_token_get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)


class PriceListApi(APIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(DateRangeFilterSerializer):
        symbol = serializers.ChoiceField(choices=settings.MARKET_SYMBOLS, required=False)

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = PriceBar
            fields = ["symbol", "date", "open", "high", "low", "close", "volume", "source"]

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(price_bars_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ForecastListApi(APIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(DateRangeFilterSerializer):
        kind = serializers.ChoiceField(
            choices=Forecast.Kind.choices,
            required=False,
            help_text=KIND_HELP,
            error_messages={
                "invalid_choice": f'"{{input}}" is not a kind; use one of {", ".join(Forecast.Kind.values)}.'
            },
        )
        model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all(), required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ForecastOutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(forecast_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(ForecastOutputSerializer(page, many=True).data)


class ChampionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    registered_name = serializers.CharField()
    version = serializers.IntegerField()
    architecture = serializers.CharField()
    label = serializers.CharField(source="__str__")


class FreshnessOutputSerializer(serializers.Serializer):
    newest_gold_date = serializers.DateField(allow_null=True)
    expected_date = serializers.DateField(help_text="The last completed trading day.")
    is_stale = serializers.BooleanField()
    staleness_days = serializers.IntegerField(allow_null=True)
    last_successful_load_at = serializers.DateTimeField(
        source="last_successful_load.finished_at", default=None, allow_null=True
    )


class MissingBarsOutputSerializer(serializers.Serializer):
    """Why no live forecast of the next day can be made now (forecasts.selectors.live_record.MissingBars)."""

    as_of_date = serializers.DateField(help_text="The last day with both a gold and an S&P 500 close.")
    date = serializers.DateField(
        help_text="The trading day after as_of_date: its gold close is stored, so a forecast of it now is late."
    )
    symbols = serializers.ListField(
        child=serializers.CharField(), help_text="The symbols whose bar for `date` is not stored yet."
    )
    message = serializers.CharField(help_text='e.g. "S&P 500 close for 2025-09-25 not stored yet".')


MISSING_BARS_HELP = (
    "The bars a live forecast of the next day waits for; null when a live forecast can be made now. Set when "
    "the gold close of the day after the last common day is already stored (a forecast of it would be late)."
)
NEXT_DAY_KIND_HELP = (
    "live, or late when the forecast was stored after its target day's gold close was (never counted as live)."
)


# The latest forecast changes a few times a day (the daily pipeline, a promotion) and is the most requested
# answer: it is served from the cache for API_LATEST_CACHE_SECONDS, so it can lag a change by that long.


STALE_HELP = "True when the forecast's data is more than FORECAST_STALE_AFTER_DAYS trading days old."
DATA_AGE_HELP = "Trading days from the forecast's as_of_date to the last completed trading day (0: current)."


class ForecastLatestApi(APIView):
    class OutputSerializer(serializers.Serializer):
        target_date = serializers.DateField(source="forecast.target_date")
        as_of_date = serializers.DateField(source="forecast.as_of_date")
        stale = serializers.BooleanField(source="data_age.stale", help_text=STALE_HELP)
        data_age_days = serializers.IntegerField(source="data_age.days", help_text=DATA_AGE_HELP)
        kind = serializers.ChoiceField(
            choices=NEXT_DAY_KIND_CHOICES, source="forecast.kind", help_text=NEXT_DAY_KIND_HELP
        )
        champion = ChampionOutputSerializer()
        forecast = ForecastOutputSerializer()
        naive = ForecastOutputSerializer(allow_null=True, help_text="The naive forecast of the same day and kind.")
        freshness = FreshnessOutputSerializer()
        missing_bars = MissingBarsOutputSerializer(allow_null=True, help_text=MISSING_BARS_HELP)

    @extend_schema(
        responses={200: OutputSerializer, 503: OpenApiResponse(description="No champion or no forecast yet.")}
    )
    def get(self, request):
        return Response(forecast_latest_answer(render=lambda latest: self.OutputSerializer(latest).data))


class PredictApi(APIView):
    """The old service's `POST /predict`: the champion's forecast of the next trading day's gold close.

    Returns the stored forecast when there is one; otherwise makes it (here without a broker, else on a worker,
    waiting a bounded time: 503 when no worker answers). `model_version` is the MLflow version number of
    `model_name`. `stale` and `data_age_days` say how old the data the forecast was made from is. `kind` says
    whether it is live or late (made after its target day's gold close was stored: answered all the same, never
    counted as live), and `missing_bars` which bar a live forecast of the next day waits for.
    """

    class InputSerializer(serializers.Serializer):
        predict_tomorrow = serializers.BooleanField(help_text="Must be true.")

        def validate_predict_tomorrow(self, value: bool) -> bool:
            if not value:
                raise serializers.ValidationError("Set predict_tomorrow to true to get the next day's forecast.")
            return value

    class OutputSerializer(serializers.Serializer):
        prediction = serializers.FloatField(source="forecast.predicted_close")
        predicted_date = serializers.DateField(source="forecast.target_date")
        today_date = serializers.DateField(source="forecast.as_of_date")
        model_name = serializers.CharField(source="forecast.model_version.registered_name")
        model_type = serializers.CharField(source="forecast.model_version.architecture")
        model_version = serializers.IntegerField(source="forecast.model_version.version")
        lower_80 = serializers.FloatField(source="forecast.lower_80")
        upper_80 = serializers.FloatField(source="forecast.upper_80")
        lower_95 = serializers.FloatField(source="forecast.lower_95")
        upper_95 = serializers.FloatField(source="forecast.upper_95")
        stale = serializers.BooleanField(source="data_age.stale", help_text=STALE_HELP)
        data_age_days = serializers.IntegerField(source="data_age.days", help_text=DATA_AGE_HELP)
        kind = serializers.ChoiceField(
            choices=NEXT_DAY_KIND_CHOICES, source="forecast.kind", help_text=NEXT_DAY_KIND_HELP
        )
        missing_bars = MissingBarsOutputSerializer(allow_null=True, help_text=MISSING_BARS_HELP)

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 503: OpenApiResponse(description="No champion, no data, or no worker.")},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        forecast = forecast_next_day_ensure()
        answer = {
            "forecast": forecast,
            "data_age": data_age(as_of_date=forecast.as_of_date),
            "missing_bars": live_forecast_missing_bars(),
        }
        return Response(self.OutputSerializer(answer).data)


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
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(self.OutputSerializer(forecast_accuracy(**filters.validated_data)).data)
