from goldsite.errors import GoldsiteError


class MarketDataError(GoldsiteError):
    """Market data could not be imported, fetched or used; the message says where and why."""

    code = "market_data"


class ForecastError(GoldsiteError):
    """A forecast could not be made or scored (no champion, not enough history...)."""

    code = "forecast"
