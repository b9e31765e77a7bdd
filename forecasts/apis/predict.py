"""`POST /api/predict/`: the old service's prediction endpoint, answered with the champion's next-day forecast."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasts.apis.forecasts import (
    MISSING_BARS_HELP,
    MissingBarsOutputSerializer,
    data_age_days_field,
    next_day_kind_field,
    stale_field,
)
from forecasts.selectors.forecasts import data_age
from forecasts.selectors.live_record import live_forecast_missing_bars
from forecasts.services.prediction import forecast_next_day_ensure


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
        stale = stale_field()
        data_age_days = data_age_days_field()
        kind = next_day_kind_field()
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
