from django.contrib import admin

from forecasts.models import DataLoad, Forecast, PriceBar
from goldsite.admin import ReadOnlyAdmin

# --- Market data ------------------------------------------------------------------------------------


@admin.register(PriceBar)
class PriceBarAdmin(admin.ModelAdmin):
    list_display = ["symbol", "date", "open", "high", "low", "close", "volume", "source", "updated_at"]
    list_filter = ["symbol", "source"]
    date_hierarchy = "date"
    search_fields = ["date"]
    search_help_text = "Search by date, e.g. 2025-09 or 2025-09-25."
    ordering = ["-date", "symbol"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(DataLoad)
class DataLoadAdmin(ReadOnlyAdmin):
    """Loads are written by the import and fetch services; the admin only shows them."""

    list_display = [
        "started_at",
        "kind",
        "symbol",
        "status",
        "rows_inserted",
        "rows_updated",
        "rows_unchanged",
        "rows_skipped",
        "first_date",
        "last_date",
        "finished_at",
    ]
    list_filter = ["kind", "status", "symbol"]
    date_hierarchy = "started_at"


# --- Forecasts --------------------------------------------------------------------------------------


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    """Forecasts are written by the prediction, backtest and scoring services; the admin only shows them."""

    list_display = [
        "target_date",
        "model_version",
        "kind",
        "predicted_close",
        "actual_close",
        "abs_pct_error",
        "inside_80",
    ]
    list_filter = ["kind", "model_version__architecture", "target_date"]
    list_select_related = ["model_version"]
    date_hierarchy = "target_date"
    ordering = ["-target_date", "model_version"]
