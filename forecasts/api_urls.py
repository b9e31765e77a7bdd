from django.urls import path

from forecasts import apis

app_name = "forecasts-api"

urlpatterns = [
    path("auth/token/", apis.TokenObtainApi.as_view(), name="token-obtain"),
    path("prices/", apis.PriceListApi.as_view(), name="prices"),
    path("forecasts/", apis.ForecastListApi.as_view(), name="forecasts"),
    path("forecasts/latest/", apis.ForecastLatestApi.as_view(), name="forecast-latest"),
    path("predict/", apis.PredictApi.as_view(), name="predict"),
    path("accuracy/", apis.AccuracyApi.as_view(), name="accuracy"),
]
