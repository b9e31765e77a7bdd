"""The admin: bars to browse and search, data loads to read but never edit."""

import datetime as dt

import pytest
from django.urls import reverse

from forecasts.models import DataLoad
from tests.factories import DataLoadFactory, PriceBarFactory

pytestmark = pytest.mark.django_db


def test_price_bars_list_with_filters_and_date_search(admin_client):
    PriceBarFactory(symbol="GC=F", date=dt.date(2025, 9, 24), close=3732.1)
    PriceBarFactory(symbol="^GSPC", date=dt.date(2025, 9, 23), close=6656.92)
    url = reverse("admin:forecasts_pricebar_changelist")

    everything = admin_client.get(url)
    searched = admin_client.get(url, {"q": "2025-09-24"})
    filtered = admin_client.get(url, {"symbol": "^GSPC"})

    assert everything.status_code == 200
    assert everything.context["cl"].result_count == 2
    assert [bar.date for bar in searched.context["cl"].result_list] == [dt.date(2025, 9, 24)]
    assert [bar.symbol for bar in filtered.context["cl"].result_list] == ["^GSPC"]


def test_price_bar_change_page(admin_client):
    bar = PriceBarFactory()
    response = admin_client.get(reverse("admin:forecasts_pricebar_change", args=[bar.pk]))
    assert response.status_code == 200


def test_data_loads_are_listed_and_filterable(admin_client):
    DataLoadFactory(kind=DataLoad.Kind.FETCH, status=DataLoad.Status.FAILED, error="Rate limited")
    DataLoadFactory(kind=DataLoad.Kind.IMPORT)
    url = reverse("admin:forecasts_dataload_changelist")

    response = admin_client.get(url, {"status__exact": DataLoad.Status.FAILED})

    assert response.status_code == 200
    assert [load.kind for load in response.context["cl"].result_list] == [DataLoad.Kind.FETCH]


def test_data_loads_are_read_only(admin_client):
    load = DataLoadFactory(error="line 4: close is negative")

    page = admin_client.get(reverse("admin:forecasts_dataload_change", args=[load.pk]))
    post = admin_client.post(reverse("admin:forecasts_dataload_change", args=[load.pk]), {"symbol": "^GSPC"})
    add = admin_client.get(reverse("admin:forecasts_dataload_add"))
    delete = admin_client.get(reverse("admin:forecasts_dataload_delete", args=[load.pk]))

    assert page.status_code == 200
    assert b"line 4: close is negative" in page.content
    assert b'name="_save"' not in page.content
    assert post.status_code == 403
    assert add.status_code == 403
    assert delete.status_code == 403
    load.refresh_from_db()
    assert load.symbol == "GC=F"
