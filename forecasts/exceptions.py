from goldsite.errors import GoldsiteError, NotReadyError


class MarketDataError(GoldsiteError):
    """Market data could not be imported, fetched or used; the message says where and why."""

    code = "market_data"


class ForecastError(GoldsiteError):
    """A forecast could not be made or scored (no champion, not enough history...)."""

    code = "forecast"


class MarketDataUnavailable(MarketDataError):
    """Yahoo Finance could not be reached or refused us for now (rate limit, network, timeout); retry later."""

    code = "market_data_unavailable"


class ForecastNotReady(ForecastError, NotReadyError):
    """What a forecast needs is not there yet (no champion, no prices, no worker answer); HTTP 503."""

    code = "forecast_not_ready"


class ForecastUnusable(ForecastError, NotReadyError):
    """A model answered a forecast that cannot be stored (inf, nan, a price not above zero, bands out of order).

    Nothing is stored; HTTP 503, since no usable forecast exists until the data or the champion is fixed.
    """

    code = "forecast_unusable"


# The one wording of "no champion": the records' notes say it as it is, the errors of what needs one add what to do.
NO_CHAMPION_YET = "There is no champion model yet."
NO_CHAMPION = NO_CHAMPION_YET.removesuffix(".") + "; run `manage.py train` first."
