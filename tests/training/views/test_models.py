"""The models pages: every version, the champion history, one version's detail, and promotion by ML engineers."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from forecasts.models import Forecast
from forecasts.services.scoring import forecast_apply_actual
from tests.factories import (
    ChampionChangeFactory,
    ForecastFactory,
    ModelVersionFactory,
    TrainingRunFactory,
    UserFactory,
)
from training.models import ChampionChange, ModelVersion
from training.views.versions import metrics_table

pytestmark = pytest.mark.django_db

METRICS = {"mae": 24.5, "rmse": 31.0, "mape": 0.84, "rmae": 0.9731, "coverage_80": 0.812, "n": 250}


@pytest.fixture
def version():
    run = TrainingRunFactory()
    ModelVersionFactory(
        architecture=ModelVersion.Architecture.NAIVE,
        hyperparameters={},
        training_run=run,
        cv_metrics={"mae": 25.0, "mape": 0.9, "rmae": 1.0, "coverage_80": 0.79},
        test_metrics={"mae": 25.2, "mape": 0.88, "rmae": 1.0, "coverage_80": 0.8},
    )
    return ModelVersionFactory(
        architecture=ModelVersion.Architecture.LSTM,
        training_run=run,
        hyperparameters={"units": 64, "dropout": 0.1},
        cv_metrics={**METRICS, "mae": 23.1},
        test_metrics=METRICS,
    )


# --- Access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "kwargs"),
    [
        ("training:models", {}),
        ("training:model-detail", {"version_id": 1}),
        ("training:model-promote", {"version_id": 1}),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in_with_next(client, url_name, kwargs):
    url = reverse(url_name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('forecasts:login')}?next={url}"


@pytest.mark.parametrize("who", ["analyst", "staff"])
def test_without_the_permission_there_is_no_promote_button_and_promotion_is_refused(request, who, version, aliases):
    client = request.getfixturevalue(who)  # staff included: being staff is not the permission
    detail = client.get(reverse("training:model-detail", args=[version.pk])).content.decode()
    url = reverse("training:model-promote", args=[version.pk])

    assert url not in detail and "Promote…" not in detail
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "mine"}).status_code == 403
    assert not ModelVersion.objects.filter(is_champion=True).exists()
    assert aliases == []


# --- Listing ----------------------------------------------------------------------------------------------


def test_the_list_shows_each_version_with_formatted_metrics_and_the_champion(analyst, version):
    ModelVersion.objects.filter(pk=version.pk).update(is_champion=True)

    content = analyst.get(reverse("training:models")).content.decode()

    assert f'href="{reverse("training:model-detail", args=[version.pk])}"' in content
    assert ">LSTM<" in content and ">Naive<" in content
    assert "$23.10" in content and "$24.50" in content  # validation and test MAE
    assert "0.84%" in content and "0.973" in content and "81.2%" in content
    assert "2020-10-01 – 2025-09-24" in content
    versions_table = content[content.index("All versions") : content.index("Champion history")]
    assert versions_table.count("badge--champion") == 1


def test_the_champion_history_says_who_when_from_to_and_why(analyst, version):
    old = ModelVersionFactory()
    ChampionChangeFactory(from_version=old, to_version=version, automatic=False, changed_by=UserFactory(username="ana"))
    ChampionChangeFactory(to_version=old, reason="Lowest validation MAE in tune run #1")

    content = analyst.get(reverse("training:models")).content.decode()

    history = content[content.index("Champion history") :]
    assert "ana" in history and ">Automatic<" in history
    assert "Lowest validation MAE in tune run #1" in history
    assert str(old) in history and str(version) in history
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", history)


def test_an_empty_registry_says_how_to_get_versions(analyst):
    content = analyst.get(reverse("training:models")).content.decode()

    assert "No model versions yet" in content
    assert "No champion has been chosen yet." in content


# --- Detail -----------------------------------------------------------------------------------------------


def test_the_detail_shows_metrics_beside_naive_hyperparameters_and_mlflow_ids(analyst, version):
    content = analyst.get(reverse("training:model-detail", args=[version.pk])).content.decode()

    assert "Naive CV" in content and "Naive test" in content
    assert "$25.20" in content  # naive test MAE beside the LSTM's
    assert "<code>units</code>" in content and ">64<" in content
    assert version.run_id in content
    assert f"models:/gold-next-day/{version.version}" in content


def test_the_metrics_table_formats_numbers_for_people(version):
    rows = {row["label"]: row for row in metrics_table(version=version, baseline=None)}

    assert rows["Mean absolute error"]["test"] == "$24.50"
    assert rows["Mean absolute % error"]["test"] == "0.84%"
    assert rows["Relative MAE (vs naive)"]["test"] == "0.973"
    assert rows["Inside the 80% range"]["test"] == "81.2%"
    assert rows["Direction right"]["test"] == "—"  # not recorded
    assert rows["Days"]["test"] == "250"


def test_the_detail_draws_the_backtest_with_its_band(analyst, version):
    for i in range(3):
        forecast = ForecastFactory.build(
            model_version=version, kind=Forecast.Kind.BACKTEST, target_date=dt.date(2025, 9, 22) + dt.timedelta(i)
        )
        forecast_apply_actual(forecast=forecast, actual_close=3710.0 + i)
        forecast.save()

    content = analyst.get(reverse("training:model-detail", args=[version.pk])).content.decode()

    match = re.search(r'<script id="backtest-chart" type="application/json">(.*?)</script>', content, re.S)
    figure = json.loads(match.group(1))
    names = [t["name"] for t in figure["data"]]
    assert names == ["80% range (low)", "80% range", "Actual close", "Forecast (backtest)"]
    assert figure["data"][2]["y"] == [3710.0, 3711.0, 3712.0]
    assert "vendor/plotly.min.js" in content
    assert "3 trading days" in content


# --- Promotion --------------------------------------------------------------------------------------------


def test_ml_engineers_see_the_promote_button_and_a_confirmation_page(engineer, version):
    detail = engineer.get(reverse("training:model-detail", args=[version.pk])).content.decode()
    confirm = engineer.get(reverse("training:model-promote", args=[version.pk]))

    assert f'href="{reverse("training:model-promote", args=[version.pk])}"' in detail
    assert confirm.status_code == 200
    assert "Yes, promote" in confirm.content.decode()
    assert not ModelVersion.objects.filter(is_champion=True).exists()  # GET changes nothing


def test_ml_engineers_promote_through_the_service_with_a_reason(engineer, version, aliases):
    response = engineer.post(reverse("training:model-promote", args=[version.pk]), {"reason": "best LSTM"}, follow=True)

    version.refresh_from_db()
    assert version.is_champion
    change = ChampionChange.objects.get()
    assert (change.to_version, change.reason, change.automatic) == (version, "best LSTM", False)
    assert aliases == [(version.registered_name, "champion", version.version)]
    assert response.redirect_chain[-1][0] == reverse("training:model-detail", args=[version.pk])
    assert f"{version} is now the champion." in response.content.decode()


def test_a_failed_promotion_shows_the_service_message(engineer, version, aliases):
    ModelVersion.objects.filter(pk=version.pk).update(is_champion=True)

    response = engineer.post(reverse("training:model-promote", args=[version.pk]), {"reason": "again"}, follow=True)

    content = response.content.decode()
    assert "Promotion failed:" in content and "is already the champion" in content
    assert 'role="alert"' in content
    assert ChampionChange.objects.count() == 0


def test_an_unreachable_registry_changes_nothing_and_says_so(engineer, version, monkeypatch):
    current = ModelVersionFactory(is_champion=True)

    def broken(**kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr("training.ml.registry.set_alias", broken)

    response = engineer.post(reverse("training:model-promote", args=[version.pk]), {"reason": "x"}, follow=True)

    assert "connection refused" in response.content.decode()
    assert list(ModelVersion.objects.filter(is_champion=True)) == [current]
