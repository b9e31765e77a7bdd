"""The OpenAPI schema documents the live record's fields: kind, missing bars and the live evidence (issue 12)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

# Component -> the fields issue 12 added to it, each of which must carry a description.
DOCUMENTED = {
    "ForecastLatestOutput": ["kind", "missing_bars"],
    "PredictOutput": ["kind", "missing_bars"],
    "ForecastOutput": ["kind"],
    "MissingBarsOutput": ["as_of_date", "date", "symbols", "message"],
    "AccuracyOutput": ["evidence", "live_n"],
    "LiveEvidenceOutput": ["n", "required", "rmae", "p_value", "dm_statistic", "dm_lag", "beats_naive", "note"],
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("component", "fields"), DOCUMENTED.items())
def test_every_new_field_is_described(schema, component, fields):
    properties = schema["components"]["schemas"][component]["properties"]

    undocumented = [field for field in fields if not properties[field].get("description")]

    assert undocumented == []


def test_the_next_day_kind_is_live_or_late(schema):
    assert schema["components"]["schemas"]["NextDayForecastKindEnum"]["enum"] == ["live", "late"]


def test_the_forecast_list_filter_takes_every_kind(schema):
    parameters = schema["paths"]["/api/forecasts/"]["get"]["parameters"]
    kind = next(p for p in parameters if p["name"] == "kind")

    assert sorted(kind["schema"]["enum"]) == ["backtest", "cv", "late", "live"]
    assert "late" in kind["description"]
