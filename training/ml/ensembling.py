"""The ensemble candidate: built from its members' registered results, with no fits of its own."""

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from training.ml.candidate_tracking import CandidateTracker, description_tags, stepper
from training.ml.dataset import Protocol, Samples, Windows
from training.ml.evaluation import OutOfSample
from training.ml.features import FeatureConfig
from training.ml.kinds.ensemble import Ensemble
from training.ml.registration import register_candidate
from training.ml.results import STAGES, CandidateResult


def ensemble_candidate(
    closes: pd.DataFrame,
    *,
    members: list[CandidateResult],
    feature_config: FeatureConfig | None = None,
    tracking_uri: str,
    experiment: str,
    artifact_root: str | None = None,
    registered_name: str = "gold-next-day",
    parent_run_id: str | None = None,
    on_step: Callable[[str], None] | None = None,
    load_member: Callable[[str], Any] | None = None,
) -> CandidateResult:
    """The equal-weight ensemble of `members` (registered network candidates of the same closes and protocol).

    Its CV and walk-forward forecasts are the mean of the members'; its served model holds the members' served
    refits, loaded from the registry (`load_member(model_uri)` -> Forecaster).
    """
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two members")
    protocols = {tuple(sorted(m.protocol.items())) for m in members}
    if len(protocols) != 1 or len({m.data_end for m in members}) != 1:
        raise ValueError("an ensemble's members must share their protocol and data")
    started = time.perf_counter()
    protocol = Protocol(**members[0].protocol)
    samples = Samples.from_closes(closes, feature_config)
    windows = Windows.for_samples(samples, protocol)
    if samples.data_end != members[0].data_end:
        raise ValueError("the ensemble's closes are not its members' closes")
    if load_member is None:
        from training.ml.registry import load_forecaster

        def load_member(uri: str):
            return load_forecaster(uri, tracking_uri=tracking_uri)

    step = stepper(on_step)
    tracker = CandidateTracker(
        tracking_uri=tracking_uri,
        experiment=experiment,
        artifact_root=artifact_root,
        parent_run_id=parent_run_id,
        run_name=Ensemble.kind,
        tags={
            **description_tags(samples, windows, Ensemble.kind, protocol),
            "run_kind": "ensemble",
            "members": ", ".join(f"{m.kind} v{m.version}" for m in members),
        },
    )
    try:
        served = Ensemble(members=[load_member(m.model_uri).model for m in members])
        cv = OutOfSample.mean([OutOfSample.from_dict(m.cv) for m in members])
        walk = OutOfSample.mean([OutOfSample.from_dict(m.walk_forward) for m in members])
        return register_candidate(
            kind=Ensemble.kind,
            hyperparameters={"members": [m.kind for m in members]},
            samples=samples,
            windows=windows,
            served=served,
            cv=cv,
            walk=walk,
            epochs=None,
            trials=0,
            tracker=tracker,
            registered_name=registered_name,
            started=started,
            stage_seconds=dict.fromkeys(STAGES, 0.0),
            step=step,
        )
    except BaseException:
        tracker.fail()
        raise
