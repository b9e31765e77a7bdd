"""The Forecast admin: a read-only list with the filters an engineer needs."""

import pytest

from tests.factories import ForecastFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/forecasts/forecast/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_lists_forecasts_filtered_by_kind_and_architecture(admin_client):
    forecast = ForecastFactory()

    response = admin_client.get(URL, {"kind": "live", "model_version__architecture": "mlp"})

    assert response.status_code == 200
    assert str(forecast.model_version) in response.content.decode()
    assert admin_client.get(f"{URL}{forecast.pk}/change/").status_code == 200


def test_forecasts_cannot_be_added_changed_or_deleted(admin_client):
    forecast = ForecastFactory()
    assert admin_client.get(f"{URL}add/").status_code == 403
    assert admin_client.post(f"{URL}{forecast.pk}/delete/", {"post": "yes"}).status_code == 403
    forecast.refresh_from_db()
