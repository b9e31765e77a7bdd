"""`GET /api/forecasts/` (every stored forecast, filtered) and `GET /api/forecasts/latest/` (the champion's next-day
forecast with its naive twin, the data's freshness and the bars a live forecast waits for), with the forecast
serializers `forecasts.apis.predict` shares."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasts.apis.common import DateRangeFilterSerializer, paginated_response, query_filters
from forecasts.models import NEXT_DAY_KIND_CHOICES, Forecast
from forecasts.selectors.forecasts import forecast_latest_answer, forecast_list
from forecasts.services.forecast_checks import FORECAST_VALUE_FIELDS
from training.models import ModelVersion

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
            *FORECAST_VALUE_FIELDS,  # last_close, predicted_return, predicted_close and the four band edges
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
        rows = forecast_list(**query_filters(request, self.FilterSerializer))
        return paginated_response(self, request, rows=rows, serializer_class=ForecastOutputSerializer)


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
STALE_HELP = "True when the forecast's data is more than FORECAST_STALE_AFTER_DAYS trading days old."
DATA_AGE_HELP = "Trading days from the forecast's as_of_date to the last completed trading day (0: current)."


# The fields every next-day answer (the latest forecast, the old service's prediction) carries about its forecast.
def stale_field() -> serializers.Field:
    return serializers.BooleanField(source="data_age.stale", help_text=STALE_HELP)


def data_age_days_field() -> serializers.Field:
    return serializers.IntegerField(source="data_age.days", help_text=DATA_AGE_HELP)


def next_day_kind_field() -> serializers.Field:
    return serializers.ChoiceField(choices=NEXT_DAY_KIND_CHOICES, source="forecast.kind", help_text=NEXT_DAY_KIND_HELP)


# The latest forecast changes a few times a day (the daily pipeline, a promotion) and is the most requested
# answer: it is served from the cache for API_LATEST_CACHE_SECONDS, so it can lag a change by that long.
class ForecastLatestApi(APIView):
    class OutputSerializer(serializers.Serializer):
        target_date = serializers.DateField(source="forecast.target_date")
        as_of_date = serializers.DateField(source="forecast.as_of_date")
        stale = stale_field()
        data_age_days = data_age_days_field()
        kind = next_day_kind_field()
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
