"""Token API for prices, forecasts, accuracy and on-demand prediction: one APIView per operation.

Everything needs a signed-in user (token or session) except `POST /api/auth/token/`, which exchanges a
username and password for a token. Bad query values answer 400 with a message per field.

Modules by subdomain: `common` (the shared query parsing, date-range filter and pagination), `auth` (the token
endpoint), `prices`, `forecasts` (the forecast list and the latest forecast, with the forecast serializers),
`predict` (the old service's on-demand prediction) and `accuracy` (the live record and its bands). The views are
importable from here, as `forecasts.api_urls` uses them.
"""

from forecasts.apis.accuracy import AccuracyApi
from forecasts.apis.auth import TokenObtainApi
from forecasts.apis.forecasts import ForecastLatestApi, ForecastListApi
from forecasts.apis.predict import PredictApi
from forecasts.apis.prices import PriceListApi

__all__ = ["AccuracyApi", "ForecastLatestApi", "ForecastListApi", "PredictApi", "PriceListApi", "TokenObtainApi"]
