"""bench/peers.py: the peers go through the project's rolling-origin loop on the protocol's windows, see no close
after their as-of day, choose on CV only, and are scored like the project's candidates."""

import numpy as np
import pandas as pd
import pytest

from bench import peer_project, peer_rows, peers
from bench.peer_models import (
    RIDGE_ALPHAS,
    STATSFORECAST_PEERS,
    AutoARIMAPeer,
    AutoETSPeer,
    RidgePeer,
    statsforecast_available,
)
from tests.training.ml.series import random_walk_closes
from training.ml.calibration import fit_bands
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import backtest_rows, rolling_origin, window_scores
from training.ml.kinds.baselines import Drift, Naive

PROTOCOL = Protocol(test_days=30, selection_days=60, folds=4, retrain_every=10, lookback=5)
needs_statsforecast = pytest.mark.skipif(
    not statsforecast_available(), reason='statsforecast is not installed (pip install -e ".[bench]")'
)


@pytest.fixture
def closes() -> pd.DataFrame:
    return random_walk_closes(260, seed=3)


@pytest.fixture
def samples(closes) -> Samples:
    return Samples.from_closes(closes)


@pytest.fixture
def windows(samples) -> Windows:
    return Windows.for_samples(samples, PROTOCOL)


def _with_gold_moved_from(closes: pd.DataFrame, index: int, factor: float = 1.15) -> pd.DataFrame:
    moved = closes.copy()
    moved.iloc[index:, moved.columns.get_loc("gold")] *= factor
    return moved


# -- the statsforecast peers -----------------------------------------------------------------------------------
@needs_statsforecast
@pytest.mark.parametrize("peer", STATSFORECAST_PEERS, ids=lambda p: p.model_name)
def test_a_statsforecast_peer_forecasts_every_test_day_one_step_ahead_refitted_once_per_block(peer, samples, windows):
    walk, lower, upper, chosen = peer_rows.statsforecast_walk(peer, samples, windows)

    np.testing.assert_array_equal(walk.rows, windows.test_rows)
    assert len(walk.reports) == len(chosen) == len(windows.walk_forward) == 3  # one fit per block, none per day
    predicted_close = samples.last_close[walk.rows] * np.exp(walk.predicted)
    assert np.all(np.isfinite(walk.predicted))
    assert np.all((lower < predicted_close) & (predicted_close < upper))  # its own 80% interval around its mean


@needs_statsforecast
@pytest.mark.parametrize("peer", STATSFORECAST_PEERS, ids=lambda p: p.model_name)
def test_a_statsforecast_forecast_reads_no_close_after_its_as_of_day(peer, closes, samples, windows):
    block = windows.walk_forward[1]
    row = int(block.rows[3])  # inside a block: forecast by the block's model run forward, not by a refit
    as_of = row + samples.feature_config.warmup
    before, before_lower, _, _ = peer_rows.statsforecast_walk(peer, samples, windows)
    moved = Samples.from_closes(_with_gold_moved_from(closes, as_of + 1))
    after, after_lower, _, _ = peer_rows.statsforecast_walk(peer, moved, Windows.for_samples(moved, PROTOCOL))

    upto = before.rows <= row
    np.testing.assert_array_equal(after.predicted[upto], before.predicted[upto])
    np.testing.assert_array_equal(after_lower[upto], before_lower[upto])

    # The next day's forecast does read the close it is made on (state updated within the block).
    def next_close(s, walk):
        return (s.last_close[walk.rows] * np.exp(walk.predicted))[walk.rows == row + 1][0]

    assert next_close(moved, after) != pytest.approx(next_close(samples, before), rel=1e-3)


@needs_statsforecast
def test_within_a_block_the_forecast_is_the_block_fit_run_forward_not_a_refit(samples, windows):
    block = windows.walk_forward[0]
    model = AutoETSPeer()
    model.fit(samples, block.fit_rows, seed=0)
    predicted = model.predict(samples, block.rows)

    log_gold = np.log(samples.closes["gold"].to_numpy())
    as_of = int(block.rows[4]) + samples.feature_config.warmup
    expected = model.model.forward(y=log_gold[: as_of + 1], h=1)["mean"][0] - log_gold[as_of]
    assert predicted[4] == pytest.approx(expected)
    assert model.fitted_through == int(block.rows[0]) + samples.feature_config.warmup  # the block's first as-of day


@needs_statsforecast
@pytest.mark.parametrize("peer", STATSFORECAST_PEERS, ids=lambda p: p.model_name)
def test_a_statsforecast_peer_fits_only_on_an_expanding_span(peer, samples):
    with pytest.raises(ValueError, match="expanding span"):
        peer().fit(samples, np.arange(10, 120), seed=0)


@needs_statsforecast
def test_the_statsforecast_peers_name_the_model_each_refit_selected(samples, windows):
    ets = AutoETSPeer()
    ets.fit(samples, windows.walk_forward[0].fit_rows, seed=0)
    arima = AutoARIMAPeer()
    arima.fit(samples, windows.walk_forward[0].fit_rows, seed=0)
    assert ets.description.startswith("ETS(") and arima.description.startswith("ARIMA(")


@needs_statsforecast
def test_the_statsforecast_rows_use_their_own_intervals(samples, windows):
    row = peer_rows.statsforecast_row(AutoETSPeer, samples, windows)
    assert (row.name, row.source, row.interval) == ("AutoETS", "peer", peer_rows.OWN)
    assert "selected at the 3 refits" in row.notes[0]


# -- ridge -----------------------------------------------------------------------------------------------------
def test_ridge_goes_through_rolling_origin_on_the_same_features_and_learns_a_linear_signal():
    closes = random_walk_closes(400, seed=5)
    gold = closes["gold"].to_numpy()
    spx_returns = np.diff(np.log(closes["spx"].to_numpy()))
    # Tomorrow's gold return follows today's S&P 500 return (a signal in feature spx_ret_1).
    gold_returns = 0.6 * np.concatenate([[0.0], spx_returns[:-1]]) + 0.002 * np.random.default_rng(1).standard_normal(
        len(spx_returns)
    )
    closes["gold"] = gold[0] * np.exp(np.concatenate([[0.0], np.cumsum(gold_returns)]))
    samples = Samples.from_closes(closes)
    windows = Windows.for_samples(samples, PROTOCOL)

    walk = rolling_origin(lambda: RidgePeer({"alpha": 1.0}), samples, windows.walk_forward, seed=0)
    np.testing.assert_array_equal(walk.rows, windows.test_rows)
    naive = samples.price_errors(walk.rows, np.zeros(len(walk.rows))).mean()
    assert walk.mae(samples) < 0.5 * naive


def test_ridge_alpha_is_chosen_on_the_selection_folds_never_the_test_window(closes, samples, windows):
    best, trials = peer_rows.ridge_tune(samples, windows)
    assert [t.hyperparameters["alpha"] for t in trials] == list(RIDGE_ALPHAS)
    assert best.mae == min(t.mae for t in trials)
    np.testing.assert_array_equal(best.cv.rows, windows.selection_rows)

    first_test_target = windows.test_start + samples.feature_config.warmup + 1
    moved = Samples.from_closes(_with_gold_moved_from(closes, first_test_target, factor=0.7))
    moved_best, moved_trials = peer_rows.ridge_tune(moved, Windows.for_samples(moved, PROTOCOL))
    assert moved_best.hyperparameters == best.hyperparameters
    assert [t.mae for t in moved_trials] == pytest.approx([t.mae for t in trials])


def test_ridge_standardises_on_the_fit_span(samples):
    model = RidgePeer({"alpha": 10.0})
    model.fit(samples, np.arange(50), seed=0)
    np.testing.assert_allclose(model.scaler.mean_, samples.values[:50].mean(axis=0))


def test_ridge_needs_a_positive_alpha():
    with pytest.raises(ValueError, match="positive"):
        RidgePeer({"alpha": 0})


# -- scores ----------------------------------------------------------------------------------------------------
def test_the_winkler_score_is_the_width_plus_ten_times_the_miss_of_an_80_percent_band():
    scores = peer_rows.winkler_scores([15.0, 5.0, 22.0, 20.0], [10.0] * 4, [20.0] * 4)
    np.testing.assert_allclose(scores, [10.0, 10.0 + 10 * 5.0, 10.0 + 10 * 2.0, 10.0])


def test_a_conformal_row_scores_what_the_project_reports_for_the_same_forecasts(samples, windows):
    """The table's MAE, rMAE, DM p and coverage are the project's own walk-forward metrics."""
    cv = rolling_origin(lambda: Drift({"window": 60}), samples, windows.folds, seed=0)
    walk, lower, upper = peer_rows.conformal_walk(lambda: Drift({"window": 60}), samples, windows, cv)
    bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walk, walk_folds=windows.walk_forward)
    project = window_scores(samples, walk, bands.walk_forward)
    stored = backtest_rows(samples, walk, bands.walk_forward)

    row = peer_rows.Row("drift", "project", peer_rows.CONFORMAL, walk.rows, walk.predicted, lower, upper, 0.0, 0.0)
    scored = peer_rows.scores(samples, row)
    assert scored["mae"] == pytest.approx(project["mae"])
    assert scored["rmae"] == pytest.approx(project["rmae"])
    assert scored["p_value"] == pytest.approx(project["p_value"])
    assert scored["coverage_80"] == pytest.approx(project["coverage_80"])
    np.testing.assert_allclose(lower, [b["lower_80"] for b in stored])


def test_naive_has_no_p_against_itself(samples, windows):
    rows = windows.test_rows
    last = samples.last_close[rows]
    row = peer_rows.Row(
        "naive", "project", peer_rows.CONFORMAL, rows, np.zeros(len(rows)), last * 0.99, last * 1.01, 0, 0
    )
    assert peer_rows.scores(samples, row)["p_value"] is None
    assert peer_rows.scores(samples, row)["rmae"] == 1.0


def test_the_verdict_names_the_champion_and_every_peer_ahead_of_it_on_test_mae(samples, windows):
    rows = windows.test_rows
    last, actual = samples.last_close[rows], samples.returns[rows]

    def row(name, source, predicted, champion=False):
        return peer_rows.Row(
            name, source, peer_rows.CONFORMAL, rows, predicted, last * 0.9, last * 1.1, 0, 0, [], champion
        )

    table = [
        row("naive", "project", np.zeros(len(rows)), champion=True),
        row("oracle", "peer", actual),  # knows the answer: ahead
        row("contrarian", "peer", -actual),  # the wrong way every day: behind
    ]
    champion, ahead = peers.verdict_lines(samples, table, "No candidate had a lower pooled CV MAE than naive.")
    assert champion == "champion by the project's rule (*): naive — No candidate had a lower pooled CV MAE than naive."
    assert ahead.endswith("on walk-forward test MAE: oracle (0.00)")


def test_every_row_must_forecast_the_protocols_test_window(samples, windows):
    rows = windows.test_rows[1:]
    row = peer_rows.Row("ridge", "peer", peer_rows.CONFORMAL, rows, np.zeros(len(rows)), rows * 0.0, rows * 0.0, 0, 0)
    with pytest.raises(ValueError, match="ridge does not forecast the protocol's test window"):
        peers.check_same_days(windows, [row])


# -- the script ------------------------------------------------------------------------------------------------
def test_the_script_skips_and_says_how_to_install_the_extra_without_statsforecast(monkeypatch, capsys):
    monkeypatch.setattr(peers, "statsforecast_available", lambda: False)
    assert peers.main([]) == 0
    assert 'skipped: statsforecast is not installed; install the bench extra: pip install -e ".[bench]"' in (
        capsys.readouterr().out
    )


@needs_statsforecast
def test_the_script_skips_without_the_shared_data(monkeypatch, capsys, tmp_path):
    import bench.history

    monkeypatch.setattr(bench.history, "DATA", tmp_path)
    assert peers.main([]) == 0
    assert "skipped: ../shared/data is absent" in capsys.readouterr().out


# -- --from-db: the latest run's stored backtest forecasts -----------------------------------------------------
def _store_run_with_backtests(closes, samples, windows):
    """A succeeded run with its naive and drift candidates and their stored backtests, as a training run leaves them;
    drift is its champion (lower CV MAE, p < CHAMPION_MAX_P)."""
    from django.conf import settings

    from forecasts.models import PriceBar
    from forecasts.services.scoring import forecast_backtest_store
    from tests.factories import ModelVersionFactory, TrainingRunFactory

    PriceBar.objects.bulk_create(
        PriceBar(symbol=symbol, date=day.date(), close=float(value), source=PriceBar.Source.CSV)
        for column, symbol in (("gold", settings.GOLD_SYMBOL), ("spx", settings.SPX_SYMBOL))
        for day, value in closes[column].items()
    )
    run = TrainingRunFactory(params={"protocol": PROTOCOL.to_dict(), "data_end": samples.data_end.isoformat()})
    versions, walks = {}, {}
    for kind, make, cv_mae in (("naive", Naive, 11.0), ("drift", lambda: Drift({"window": 60}), 10.0)):
        cv = rolling_origin(make, samples, windows.folds, seed=0)
        walks[kind] = rolling_origin(make, samples, windows.walk_forward, seed=0)
        bands = fit_bands(samples, cv=cv, cv_folds=windows.folds, walk=walks[kind], walk_folds=windows.walk_forward)
        versions[kind] = ModelVersionFactory(
            architecture=kind,
            training_run=run,
            protocol=PROTOCOL.to_dict(),
            feature_config=samples.feature_config.to_dict(),
            data_end=samples.data_end,
            test_metrics={"fit_seconds": 0.25},
            cv_metrics={"mae": cv_mae, "p_value": 0.01, "fit_seconds": 0.5},
        )
        forecast_backtest_store(
            model_version=versions[kind], rows=backtest_rows(samples, walks[kind], bands.walk_forward)
        )
    return versions, walks


@pytest.mark.django_db
def test_from_db_the_project_rows_are_the_latest_runs_stored_backtest_forecasts(closes, samples, windows):
    versions, walks = _store_run_with_backtests(closes, samples, windows)

    project = peer_project.project_from_db()

    assert project.protocol == PROTOCOL and f"training run #{versions['drift'].training_run.pk}" in project.source
    assert list(project.closes.index) == list(closes.index)
    np.testing.assert_allclose(project.closes.to_numpy(), closes.to_numpy())
    naive, drift = project.rows
    assert (naive.name, drift.name, drift.fit_seconds, drift.total_seconds) == ("naive", "drift", 0.25, 0.75)
    assert (naive.champion, drift.champion) == (False, True)
    assert "drift beats naive with evidence" in project.decision
    np.testing.assert_array_equal(drift.rows, windows.test_rows)
    np.testing.assert_allclose(drift.predicted, walks["drift"].predicted)
    stored = versions["drift"].forecasts.backtest().order_by("target_date")
    np.testing.assert_allclose(drift.lower_80, [f.lower_80 for f in stored])


@needs_statsforecast
@pytest.mark.django_db
def test_the_script_from_db_prints_the_stored_candidates_beside_the_peers(closes, samples, windows, capsys):
    _store_run_with_backtests(closes, samples, windows)

    assert peers.main(["--from-db"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("model ") :]
    for name in ("naive", "drift *", "ridge", "AutoETS", "AutoARIMA"):
        assert f"\n{name} " in table
    assert "champion by the project's rule (*): drift" in out
    assert "walk-forward over the 30 test days" in out and "refitted every 10 (3 refits)" in out


@pytest.mark.django_db
def test_from_db_a_version_whose_backtest_is_not_the_test_window_is_an_error(closes, samples, windows):
    versions, _ = _store_run_with_backtests(closes, samples, windows)
    last_day = samples.target_date(int(windows.test_rows[-1]))
    versions["drift"].forecasts.filter(kind="backtest", target_date=last_day).delete()

    with pytest.raises(LookupError, match=f"first missing: {last_day.isoformat()}"):
        peer_project.project_from_db()


@pytest.mark.django_db
def test_from_db_without_a_run_is_an_error():
    with pytest.raises(LookupError, match="no succeeded training run"):
        peer_project.project_from_db()


@pytest.mark.django_db
def test_the_script_from_db_without_a_run_exits_non_zero(capsys):
    assert peers.main(["--from-db"]) == 2
    assert "error: no succeeded training run" in capsys.readouterr().err
