"""Reads of model versions, training runs and champion history, shared by pages, the API and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from training.models import ChampionChange, ModelVersion, TrainingRun


def model_version_list(*, architecture: str | None = None) -> QuerySet[ModelVersion]:
    versions = ModelVersion.objects.select_related("training_run")
    if architecture:
        versions = versions.filter(architecture=architecture)
    return versions.order_by("-created_at", "-version")


def model_version_champion() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_champion=True).first()


def model_version_naive_baseline(*, champion: ModelVersion | None = None) -> ModelVersion | None:
    """The naive version to compare the champion with: from the champion's own run when it has one."""
    naive = ModelVersion.objects.filter(architecture=ModelVersion.Architecture.NAIVE)
    if champion is not None and champion.training_run_id is not None:
        same_run = naive.filter(training_run_id=champion.training_run_id).first()
        if same_run is not None:
            return same_run
    return naive.order_by("-created_at", "-version").first()


def model_version_run_candidates(*, run: TrainingRun) -> list[ModelVersion]:
    """A run's candidates in the order the champion tie-break uses: naive, drift, MLP, CNN, LSTM, ensemble."""
    order = {arch: i for i, arch in enumerate(ModelVersion.Architecture.values)}
    versions = run.model_versions.select_related("training_run")
    return sorted(versions, key=lambda v: (order.get(v.architecture, 99), -v.version))


def training_run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("started_by").order_by("-created_at", "-id")


def training_run_leaderboards() -> QuerySet[TrainingRun]:
    """Runs that registered at least one model version (a leaderboard to show), newest first."""
    return training_run_list().filter(model_versions__isnull=False).distinct()


def training_run_latest_leaderboard() -> TrainingRun | None:
    """The latest succeeded run with model versions: the models page's default leaderboard."""
    return training_run_leaderboards().filter(status=TrainingRun.Status.SUCCEEDED).first()


def training_run_active() -> TrainingRun | None:
    return TrainingRun.objects.filter(status__in=TrainingRun.ACTIVE_STATUSES).first()


def champion_change_latest(*, version: ModelVersion) -> ChampionChange | None:
    """The latest change that made `version` the champion."""
    return (
        ChampionChange.objects.select_related("changed_by")
        .filter(to_version=version)
        .order_by("-changed_at", "-id")
        .first()
    )


def champion_change_list() -> QuerySet[ChampionChange]:
    return ChampionChange.objects.select_related("from_version", "to_version", "changed_by").order_by(
        "-changed_at", "-id"
    )


def training_fit_summary(*, run: TrainingRun) -> dict:
    """A run's fits: done of total, and how many each worker ran (most first)."""
    from django.db.models import Count

    from training.models import TrainingFit

    done = run.fits.filter(status=TrainingFit.Status.DONE)
    by_worker = list(done.values("worker").annotate(fits=Count("id")).order_by("-fits", "worker"))
    return {"done": done.count(), "total": _units_total(run), "by_worker": by_worker}


def _units_total(run: TrainingRun) -> int:
    """Every fit the run will make: each open candidate's planned units (known once the run executes)."""
    from training.ml.plan import CandidatePlan

    return sum(CandidatePlan.from_dict(c.state["plan"]).total_units() for c in run.candidates.all() if c.state)
