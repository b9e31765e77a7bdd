from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "forecasts"
    verbose_name = "Market data and forecasts"

    def ready(self):
        from forecasts import signals  # noqa: F401  (connects the receivers)
