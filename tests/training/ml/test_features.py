import json

import numpy as np
import pandas as pd
import pytest

from training.ml.features import (
    FeatureConfig,
    as_closes,
    build_features,
    build_target,
    feature_names,
    join_closes,
)


def test_columns_are_the_documented_features():
    assert feature_names(FeatureConfig()) == [
        "gold_ret_1",
        "gold_ret_2",
        "gold_ret_3",
        "gold_ret_4",
        "gold_ret_5",
        "spx_ret_1",
        "spx_ret_2",
        "spx_ret_3",
        "spx_ret_4",
        "spx_ret_5",
        "gold_ma5_gap",
        "spx_ma5_gap",
        "gold_vol_5",
        "gold_vol_20",
    ]


def test_build_features_has_those_columns_and_drops_the_warm_up(closes):
    features = build_features(closes)
    assert list(features.columns) == feature_names(FeatureConfig())
    assert features.index[0] == closes.index[20]
    assert features.index[-1] == closes.index[-1]
    assert np.isfinite(features.to_numpy()).all()


def test_features_match_their_definitions(closes):
    features = build_features(closes)
    gold, spx = np.log(closes["gold"]), np.log(closes["spx"])
    t = closes.index[100]
    i = closes.index.get_loc(t)
    row = features.loc[t]
    assert row["gold_ret_1"] == pytest.approx(gold.iloc[i] - gold.iloc[i - 1], rel=1e-9)
    assert row["gold_ret_3"] == pytest.approx(gold.iloc[i - 2] - gold.iloc[i - 3], rel=1e-9)
    assert row["spx_ret_1"] == pytest.approx(spx.iloc[i] - spx.iloc[i - 1], rel=1e-9)
    assert row["spx_ret_5"] == pytest.approx(spx.iloc[i - 4] - spx.iloc[i - 5], rel=1e-9)
    assert row["gold_ma5_gap"] == pytest.approx(closes["gold"].iloc[i] / closes["gold"].iloc[i - 4 : i + 1].mean() - 1)
    assert row["spx_ma5_gap"] == pytest.approx(closes["spx"].iloc[i] / closes["spx"].iloc[i - 4 : i + 1].mean() - 1)
    returns = gold.diff()
    assert row["gold_vol_5"] == pytest.approx(returns.iloc[i - 4 : i + 1].std())
    assert row["gold_vol_20"] == pytest.approx(returns.iloc[i - 19 : i + 1].std())


@pytest.mark.parametrize("day", [25, 200, 450, 598])
def test_no_look_ahead(closes, day):
    """Changing every price after day t changes no feature at day t or earlier."""
    changed = closes.copy()
    rng = np.random.default_rng(day)
    changed.iloc[day + 1 :] *= rng.uniform(0.5, 2.0, size=changed.iloc[day + 1 :].shape)
    as_of = closes.index[day]
    pd.testing.assert_frame_equal(build_features(closes).loc[:as_of], build_features(changed).loc[:as_of])
    assert not build_features(closes).loc[as_of:].iloc[1:].equals(build_features(changed).loc[as_of:].iloc[1:])


def test_scale_free(closes):
    """Multiplying all prices by 10 changes no feature (beyond float rounding)."""
    np.testing.assert_allclose(build_features(closes * 10).to_numpy(), build_features(closes).to_numpy(), atol=1e-12)


def test_the_tail_gives_the_same_bits_as_the_whole_history(closes):
    """Serving computes features from only the rows a forecast needs; they equal the training features."""
    config = FeatureConfig()
    tail = closes.iloc[-(config.warmup + 20) :]
    pd.testing.assert_frame_equal(build_features(tail, config), build_features(closes, config).iloc[-20:])


def test_target_is_the_next_day_log_return_aligned_to_the_as_of_day(closes):
    target = build_target(closes)
    assert target.iloc[10] == pytest.approx(np.log(closes["gold"].iloc[11] / closes["gold"].iloc[10]))
    assert np.isnan(target.iloc[-1])
    assert target.iloc[:-1].notna().all()


def test_feature_config_round_trips_through_json():
    config = FeatureConfig(lags=3, ma_window=10, vol_windows=[5, 10, 30])
    assert config.vol_windows == (5, 10, 30)
    assert FeatureConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.warmup == 30
    assert len(feature_names(config)) == 3 + 3 + 2 + 3


@pytest.mark.parametrize("kwargs", [{"lags": 0}, {"ma_window": 1}, {"vol_windows": ()}, {"vol_windows": (1,)}])
def test_feature_config_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        FeatureConfig(**kwargs)


def test_join_closes_keeps_common_days_sorted_without_gaps():
    gold = pd.Series(
        [1.0, 2.0, np.nan, 4.0], index=pd.to_datetime(["2024-01-04", "2024-01-02", "2024-01-03", "2024-01-05"])
    )
    spx = pd.Series(
        [10.0, 30.0, 40.0, 60.0], index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-06"])
    )
    closes = join_closes(gold, spx)
    assert list(closes.columns) == ["gold", "spx"]
    assert list(closes.index) == list(pd.to_datetime(["2024-01-02", "2024-01-04"]))
    assert closes.loc["2024-01-04", "gold"] == 1.0
    assert closes.loc["2024-01-04", "spx"] == 40.0


def test_as_closes_accepts_a_date_column():
    frame = pd.DataFrame({"date": ["2024-01-03", "2024-01-02"], "gold": [2, 1], "spx": [20, 10]})
    closes = as_closes(frame)
    assert isinstance(closes.index, pd.DatetimeIndex)
    assert list(closes["gold"]) == [1.0, 2.0]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.drop(columns="spx"),
        lambda c: c.iloc[::-1],
        lambda c: c.assign(gold=c["gold"].where(c.index != c.index[3], -1.0)),
        lambda c: c.reset_index(drop=True),
    ],
)
def test_build_features_rejects_malformed_closes(closes, mutate):
    with pytest.raises(ValueError):
        build_features(mutate(closes))


def test_real_history_has_complete_features(real_closes):
    features = build_features(real_closes)
    assert len(real_closes) > 1200
    assert len(features) == len(real_closes) - FeatureConfig().warmup
    assert np.isfinite(features.to_numpy()).all()
