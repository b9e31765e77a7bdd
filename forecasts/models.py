from django.db import models
from django.db.models import F, Q


class PriceBar(models.Model):
    """One daily bar of one symbol, as Yahoo (or a user's CSV) reported it."""

    class Source(models.TextChoices):
        YAHOO = "yahoo", "Yahoo Finance"
        CSV = "csv", "CSV import"

    symbol = models.CharField(max_length=16)
    date = models.DateField()
    open = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    close = models.FloatField()
    volume = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol", "date"]
        constraints = [
            models.UniqueConstraint(fields=["symbol", "date"], name="pricebar_unique_symbol_date"),
            models.CheckConstraint(condition=Q(close__gt=0), name="pricebar_close_positive"),
            models.CheckConstraint(condition=Q(open__isnull=True) | Q(open__gt=0), name="pricebar_open_positive"),
            models.CheckConstraint(condition=Q(high__isnull=True) | Q(high__gt=0), name="pricebar_high_positive"),
            models.CheckConstraint(condition=Q(low__isnull=True) | Q(low__gt=0), name="pricebar_low_positive"),
            models.CheckConstraint(
                condition=Q(high__isnull=True) | Q(low__isnull=True) | Q(high__gte=F("low")),
                name="pricebar_high_not_below_low",
            ),
        ]
        indexes = [models.Index(fields=["date"], name="pricebar_date_idx")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.date.isoformat()} close={self.close}"


class DataLoad(models.Model):
    """A record of one fetch from Yahoo or one CSV import: what, when, what changed, how it ended."""

    class Kind(models.TextChoices):
        FETCH = "fetch", "Yahoo fetch"
        IMPORT = "import", "CSV import"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    symbol = models.CharField(max_length=16)
    target = models.CharField(max_length=500, blank=True, help_text="File path, or the date range asked of Yahoo.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    rows_inserted = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0, help_text="Blank holiday rows and the like.")
    first_date = models.DateField(null=True, blank=True)
    last_date = models.DateField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "-finished_at"], name="dataload_status_finished_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.symbol} {self.status} @ {self.started_at:%Y-%m-%d %H:%M}"


class ForecastQuerySet(models.QuerySet):
    def scored(self):
        """Forecasts whose target day already has an actual gold close."""
        return self.filter(actual_close__isnull=False)

    def live(self):
        """Forecasts stored before their target day's gold close was: the live record."""
        return self.filter(kind=Forecast.Kind.LIVE)

    def late(self):
        """Next-day forecasts stored after their target day's gold close was (never counted as live)."""
        return self.filter(kind=Forecast.Kind.LATE)

    def next_day(self):
        """What the next-day step stores: live and late forecasts."""
        return self.filter(kind__in=[value for value, _ in NEXT_DAY_KIND_CHOICES])

    def backtest(self):
        return self.filter(kind=Forecast.Kind.BACKTEST)

    def cross_validation(self):
        return self.filter(kind=Forecast.Kind.CV)


class Forecast(models.Model):
    """One model version's forecast of one trading day's gold close, scored once the close is known."""

    class Kind(models.TextChoices):
        LIVE = "live", "Live"
        LATE = "late", "Late (made after its target close was stored)"
        BACKTEST = "backtest", "Backtest (walk-forward test)"
        CV = "cv", "Cross-validation (out-of-fold)"

    model_version = models.ForeignKey("training.ModelVersion", on_delete=models.CASCADE, related_name="forecasts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    target_date = models.DateField(help_text="The trading day whose close is forecast.")
    as_of_date = models.DateField(help_text="The last day whose close the forecast used.")
    last_close = models.FloatField()
    predicted_return = models.FloatField(help_text="Predicted log return from last close to target close.")
    predicted_close = models.FloatField()
    lower_80 = models.FloatField()
    upper_80 = models.FloatField()
    lower_95 = models.FloatField()
    upper_95 = models.FloatField()
    actual_close = models.FloatField(null=True, blank=True)
    error = models.FloatField(null=True, blank=True, help_text="Predicted minus actual close.")
    abs_pct_error = models.FloatField(null=True, blank=True, help_text="|error| / actual, in percent.")
    direction_hit = models.BooleanField(null=True, blank=True)
    inside_80 = models.BooleanField(null=True, blank=True)
    inside_95 = models.BooleanField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        ordering = ["-target_date", "model_version_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "target_date", "kind"], name="forecast_unique_version_day_kind"
            ),
            models.CheckConstraint(condition=Q(predicted_close__gt=0), name="forecast_predicted_positive"),
            models.CheckConstraint(
                condition=Q(lower_95__lte=F("lower_80"))
                & Q(lower_80__lte=F("predicted_close"))
                & Q(predicted_close__lte=F("upper_80"))
                & Q(upper_80__lte=F("upper_95")),
                name="forecast_bands_nested",
            ),
        ]
        indexes = [models.Index(fields=["kind", "target_date"], name="forecast_kind_target_idx")]

    def __str__(self) -> str:
        return f"{self.model_version} {self.kind} {self.target_date.isoformat()}: {self.predicted_close:.2f}"

    @property
    def is_scored(self) -> bool:
        return self.actual_close is not None


# The kinds the next-day step stores (forecasts.selectors.live_record decides which).
NEXT_DAY_KIND_CHOICES = [(kind.value, kind.label) for kind in (Forecast.Kind.LIVE, Forecast.Kind.LATE)]
