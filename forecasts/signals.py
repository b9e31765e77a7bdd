"""Signal receivers of the forecasts app (connected in ForecastsConfig.ready): what it does when another app
announces something (training never imports forecasts beyond its price selectors)."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from forecasts.models import Forecast
from forecasts.services.api_tokens import api_tokens_revoke
from forecasts.services.scoring import forecast_backtest_store
from training.signals import model_version_registered


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="forecasts.revoke_tokens_on_password_change")
def revoke_api_tokens_on_password_change(sender, instance, created, **kwargs):
    """A changed password revokes the user's API token, however it was changed (admin, `changepassword`, a form).

    `set_password()` keeps the new raw password in `_password` until `save()` has told the password validators
    (Django's own notion of "the password changed"); the rehash of a password at sign-in clears it before saving,
    so it does not count.
    """
    if not created and getattr(instance, "_password", None) is not None:
        api_tokens_revoke(user=instance)


@receiver(model_version_registered, dispatch_uid="forecasts.store_registered_forecasts")
def store_registered_forecasts(sender, model_version, backtest, cv_forecasts, **kwargs):
    """A registered candidate's walk-forward test and out-of-fold CV forecasts become scored forecast rows."""
    forecast_backtest_store(model_version=model_version, rows=backtest, kind=Forecast.Kind.BACKTEST)
    forecast_backtest_store(model_version=model_version, rows=cv_forecasts, kind=Forecast.Kind.CV)
