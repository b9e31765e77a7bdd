"""Promoting from the models page shows the version's evidence and needs a written reason when that evidence does not
back it (CV p not below CHAMPION_MAX_P, or no CV evidence); naive, the rule's own fallback, never needs one."""

import pytest
from django.urls import reverse

from tests.factories import ModelVersionFactory, run_with_candidates
from training.models import ChampionChange, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidates(settings):
    settings.CHAMPION_MAX_P = 0.10
    _, versions = run_with_candidates(
        p_values={"mlp": 0.03, "lstm": 0.41}, fold_rmaes={"lstm": [0.97, 1.02, 0.99, 1.0, 0.98]}
    )
    return versions


def test_the_confirmation_shows_the_evidence_and_asks_for_a_reason(engineer, candidates):
    lstm = candidates["lstm"]

    content = engineer.get(reverse("training:model-promote", args=[lstm.pk])).content.decode()

    evidence = content[content.index('data-testid="promotion-evidence"') : content.index("</table>")]
    assert "no evidence it beats naive (p = 0.41)" in evidence
    assert "0.970 · 1.020 · 0.990 · 1.000 · 0.980" in evidence  # per-fold rMAE
    assert "0.992" in evidence  # test rMAE
    assert "A reason is required" in content and "p = 0.41 ≥ 0.1" in content
    assert (
        '<textarea name="reason"' in content and "required" in content[content.index('<textarea name="reason"') :][:200]
    )


def test_without_a_reason_nothing_is_promoted(engineer, candidates, aliases):
    lstm = candidates["lstm"]

    response = engineer.post(reverse("training:model-promote", args=[lstm.pk]), {"reason": "  "})

    assert response.status_code == 400
    assert "A reason is required" in response.content.decode()
    assert not ModelVersion.objects.filter(is_champion=True).exists()
    assert not ChampionChange.objects.exists() and aliases == []


def test_with_a_reason_it_is_promoted_and_the_reason_kept(engineer, candidates, aliases):
    lstm = candidates["lstm"]

    engineer.post(reverse("training:model-promote", args=[lstm.pk]), {"reason": "regime change since the last fold"})

    change = ChampionChange.objects.get()
    assert (change.to_version, change.reason, change.automatic) == (lstm, "regime change since the last fold", False)


@pytest.mark.parametrize("kind", ["naive", "mlp"])
def test_naive_and_versions_with_evidence_need_no_reason(engineer, candidates, aliases, kind):
    version = candidates[kind]

    page = engineer.get(reverse("training:model-promote", args=[version.pk])).content.decode()
    engineer.post(reverse("training:model-promote", args=[version.pk]), {"reason": ""})

    assert "A reason is required" not in page
    change = ChampionChange.objects.get()
    assert (change.to_version, change.reason) == (version, "Promoted from the models page")


def test_a_version_without_cv_evidence_needs_a_reason(engineer, aliases):
    legacy = ModelVersionFactory(architecture="cnn", cv_metrics={"legacy_validation": {"mae": 19.0}})

    response = engineer.post(reverse("training:model-promote", args=[legacy.pk]), {})

    assert response.status_code == 400
    assert "no CV evidence (trained before the rolling-origin protocol)" in response.content.decode()
    assert not ChampionChange.objects.exists()
