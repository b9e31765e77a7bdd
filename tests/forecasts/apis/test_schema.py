"""The OpenAPI schema documents the live record's fields: kind, missing bars and the live evidence (issue 12), and
the live band record of /api/accuracy/ (issue 11)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

# Component -> the fields issues 12 and 11 added to it, each of which must carry a description.
DOCUMENTED = {
    "ForecastLatestOutput": ["kind", "missing_bars"],
    "PredictOutput": ["kind", "missing_bars"],
    "ForecastOutput": ["kind"],
    "MissingBarsOutput": ["as_of_date", "date", "symbols", "message"],
    "AccuracyOutput": ["evidence", "live_n", "bands"],
    "LiveEvidenceOutput": ["n", "required", "rmae", "p_value", "dm_statistic", "dm_lag", "beats_naive", "note"],
    # issue 11: the live band record
    "LiveBandsOutput": [
        "window", "n", "start", "end", "held_80", "held_95", "coverage_80", "coverage_95", "by_regime",
        "winkler_80", "naive_winkler_80", "winkler_n", "state", "calibration", "text",
    ],
    "LiveBandStateOutput": ["volatility", "volatility_label", "gamma", "alpha0", "alpha", "days", "held", "through"],
    "BandCalibrationOutput": ["source", "n", "by_regime", "note"],
}  # fmt: skip


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


def test_the_band_record_reuses_the_regime_and_level_shapes(schema):
    components = schema["components"]["schemas"]
    bands = components["LiveBandsOutput"]["properties"]

    assert bands["by_regime"]["allOf"] == [{"$ref": "#/components/schemas/CoverageByRegimeSchema"}]
    assert components["LiveBandStateOutput"]["properties"]["alpha"]["allOf"] == [
        {"$ref": "#/components/schemas/AlphaSchema"}
    ]
    assert components["BandCalibrationOutput"]["properties"]["source"]["nullable"] is True
