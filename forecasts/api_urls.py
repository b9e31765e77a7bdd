from django.urls import path

from forecasts import apis

urlpatterns = [
    path("auth/token/", apis.TokenObtainApi.as_view(), name="api-token-obtain"),
    path("prices/", apis.PriceListApi.as_view(), name="api-prices"),
    path("forecasts/", apis.ForecastListApi.as_view(), name="api-forecasts"),
    path("forecasts/latest/", apis.ForecastLatestApi.as_view(), name="api-forecast-latest"),
    path("predict/", apis.PredictApi.as_view(), name="api-predict"),
    path("accuracy/", apis.AccuracyApi.as_view(), name="api-accuracy"),
]
