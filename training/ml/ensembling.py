"""The ensemble candidate: built from its members' registered results, with no fits of its own."""

import time
from collections.abc import Callable
from typing import Any, Unpack

import pandas as pd

from training.ml.candidate_tracking import CandidateTracker, MlflowStore, description_tags, stepper
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import OutOfSample
from training.ml.features import FeatureConfig
from training.ml.kinds.ensemble import Ensemble
from training.ml.registration import CandidateFits, register_candidate
from training.ml.results import STAGES, CandidateResult


def ensemble_candidate(
    closes: pd.DataFrame,
    *,
    members: list[CandidateResult],
    feature_config: FeatureConfig | None = None,
    registered_name: str = "gold-next-day",
    parent_run_id: str | None = None,
    on_step: Callable[[str], None] | None = None,
    load_member: Callable[[str], Any] | None = None,
    **store: Unpack[MlflowStore],
) -> CandidateResult:
    """The equal-weight ensemble of `members` (registered network candidates of the same closes and protocol).

    Its CV and walk-forward forecasts are the mean of the members'; its served model holds the members' served
    refits, loaded from the registry (`load_member(model_uri)` -> Forecaster).
    """
    _check_members(members)
    started = time.perf_counter()
    protocol = Protocol(**members[0].protocol)
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, protocol)
    if samples.data_end != members[0].data_end:
        raise ValueError("the ensemble's closes are not its members' closes")
    load_member = load_member or _registry_loader(store["tracking_uri"])
    tags = {
        **description_tags(samples, windows, Ensemble.kind, protocol),
        "run_kind": "ensemble",
        "members": ", ".join(f"{m.kind} v{m.version}" for m in members),
    }
    tracker = CandidateTracker(**store, parent_run_id=parent_run_id, run_name=Ensemble.kind, tags=tags)
    try:
        fits = CandidateFits(
            kind=Ensemble.kind,
            hyperparameters={"members": [m.kind for m in members]},
            samples=samples,
            windows=windows,
            served=Ensemble(members=[load_member(m.model_uri).model for m in members]),
            cv=OutOfSample.mean([OutOfSample.from_dict(m.cv) for m in members]),
            walk=OutOfSample.mean([OutOfSample.from_dict(m.walk_forward) for m in members]),
            epochs=None,
            trials=0,
        )
        return register_candidate(
            fits,
            tracker=tracker,
            registered_name=registered_name,
            started=started,
            stage_seconds=dict.fromkeys(STAGES, 0.0),
            step=stepper(on_step),
        )
    except BaseException:
        tracker.fail()
        raise


def _check_members(members: list[CandidateResult]) -> None:
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two members")
    protocols = {tuple(sorted(m.protocol.items())) for m in members}
    if len(protocols) != 1 or len({m.data_end for m in members}) != 1:
        raise ValueError("an ensemble's members must share their protocol and data")


def _registry_loader(tracking_uri: str) -> Callable[[str], Any]:
    """Loads a member's served Forecaster from the registry by its model URI."""

    def load_member(uri: str):
        from training.ml.registry import load_forecaster

        return load_forecaster(uri, tracking_uri=tracking_uri)

    return load_member
