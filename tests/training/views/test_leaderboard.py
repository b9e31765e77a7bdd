"""The models page is the leaderboard of the latest succeeded run: every candidate with its evidence against naive,
its per-fold rMAE as bars, a plain verdict, the champion and how it got there; earlier runs stay one link away."""

import re

import pytest
from django.urls import reverse

from tests.factories import (
    ChampionChangeFactory,
    ModelVersionFactory,
    TrainingRunFactory,
    UserFactory,
    run_with_candidates,
)
from tests.test_middleware import inline_code
from training.models import ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def leaderboard_of(content: str) -> str:
    start = content.index('data-testid="leaderboard"')
    return content[start : content.index("</section>", start)]


def rows_of(board: str) -> dict[str, str]:
    """Each candidate's table row, by architecture."""
    return dict(re.findall(r'<tr data-architecture="(\w+)"[^>]*>(.*?)</tr>', board, re.S))


def cells(row: str) -> list[str]:
    """The text of each cell, tags stripped, whitespace squeezed."""
    raw = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in raw]


@pytest.fixture
def latest():
    TrainingRunFactory(status=TrainingRun.Status.FAILED)  # a later failed run has no leaderboard by default
    run, versions = run_with_candidates(
        p_values={"drift": 0.64, "mlp": 0.41, "lstm": 0.03, "ensemble": 0.12},
        fold_rmaes={
            "drift": [1.01, 1.0, 1.02, 1.0, 1.01],
            "mlp": [0.99, 1.0, 1.01, 0.99, 1.0],
            "lstm": [0.96, 0.97, 0.95, 1.02, 0.97],
            "ensemble": [0.98, 0.99, 0.98, 1.0, 0.99],
        },
    )
    versions["lstm"].test_metrics["winkler_80"] = 81.25
    versions["lstm"].save()
    versions["mlp"].test_metrics.pop("winkler_80")  # as a version made before the bands were scored
    versions["mlp"].save()
    ModelVersion.objects.filter(pk=versions["lstm"].pk).update(is_champion=True)
    ChampionChangeFactory(to_version=versions["lstm"], automatic=True, reason=f"Tune run #{run.pk}: ...")
    return run, versions


def test_the_leaderboard_shows_every_candidate_of_the_latest_succeeded_run(analyst, latest):
    run, versions = latest
    earlier, _ = run_with_candidates(p_values={"mlp": 0.5})
    TrainingRun.objects.filter(pk=earlier.pk).update(created_at=run.created_at.replace(year=2020))

    board = leaderboard_of(analyst.get(reverse("training:models")).content.decode())

    assert f"run #{run.pk}" in board
    rows = rows_of(board)
    assert list(rows) == ["naive", "drift", "mlp", "lstm", "ensemble"]
    lstm = cells(rows["lstm"])
    #         candidate, CV rMAE, folds (accessible text), p, test rMAE, 80% coverage, interval score, verdict
    assert lstm[0].startswith("LSTM v") and "Champion" in lstm[0] and "chosen by the rule" in lstm[0]
    assert lstm[1] == "0.974"
    assert "Fold 1 (2023-01-02 to 2023-05-21): rMAE 0.960" in lstm[2] and "Fold 4" in lstm[2]
    assert lstm[3:] == ["0.030", "0.984", "80.0%", "$81.25", "beats naive (p = 0.03)"]
    assert cells(rows["mlp"])[-2:] == ["—", "no evidence it beats naive (p = 0.41)"]  # no interval score yet
    assert cells(rows["naive"])[3] == "—" and cells(rows["naive"])[-1] == "the baseline"
    assert (
        versions["lstm"].pk and f'href="{reverse("training:model-detail", args=[versions["lstm"].pk])}"' in rows["lstm"]
    )


def test_each_fold_is_a_css_bar_around_naive_with_its_number_for_screen_readers(analyst, latest):
    rows = rows_of(leaderboard_of(analyst.get(reverse("training:models")).content.decode()))

    bars = re.findall(r'class="fold-bar (fold-bar--\w+ fold-bar--s\d+)[^"]*" aria-hidden="true"', rows["lstm"])

    # rMAE 0.96, 0.97, 0.95, 1.02, 0.97: 4%, 3%, 5% ahead, 2% behind, 3% ahead
    assert bars == [
        "fold-bar--ahead fold-bar--s4",
        "fold-bar--ahead fold-bar--s3",
        "fold-bar--ahead fold-bar--s5",
        "fold-bar--behind fold-bar--s2",
        "fold-bar--ahead fold-bar--s3",
    ]
    assert rows["lstm"].count('class="visually-hidden">Fold ') == 5


def test_the_rules_reasoning_is_spelled_out(analyst, latest):
    board = leaderboard_of(analyst.get(reverse("training:models")).content.decode())

    assert "The rule on these numbers:" in board
    assert "lstm beats naive with evidence." in board
    assert "p is below 0.1" in board


def test_a_champion_promoted_by_hand_says_who_and_why(analyst):
    run, versions = run_with_candidates(p_values={"mlp": 0.41})
    ModelVersion.objects.filter(pk=versions["mlp"].pk).update(is_champion=True)
    ChampionChangeFactory(
        to_version=versions["mlp"], automatic=False, changed_by=UserFactory(username="ana"), reason="trend day"
    )

    rows = rows_of(leaderboard_of(analyst.get(reverse("training:models")).content.decode()))

    assert "promoted by hand by ana: trend day" in cells(rows["mlp"])[0]
    assert "Rule’s pick" in rows["naive"]  # what the rule would have served


def test_earlier_runs_stay_reachable_by_the_run_picker_and_links(analyst, latest):
    run, _ = latest
    earlier, _ = run_with_candidates(p_values={"cnn": 0.5})
    TrainingRun.objects.filter(pk=earlier.pk).update(created_at=run.created_at.replace(year=2020))

    content = analyst.get(reverse("training:models")).content.decode()
    picked = analyst.get(reverse("training:models"), {"run": earlier.pk}).content.decode()

    assert f'<option value="{earlier.pk}"' in content and f'<option value="{run.pk}" selected' in content
    assert f'href="/models/?run={earlier.pk}"' in content  # from the list of all versions
    assert list(rows_of(leaderboard_of(picked))) == ["naive", "cnn"]
    assert f'<option value="{earlier.pk}" selected' in picked


def test_an_unknown_run_is_404_and_a_malformed_one_400(analyst, latest):
    assert analyst.get(reverse("training:models"), {"run": 999}).status_code == 404
    response = analyst.get(reverse("training:models"), {"run": "latest"})
    assert response.status_code == 400
    assert "Choose a training run by its number." in response.content.decode()


def test_versions_from_before_the_protocol_say_they_have_no_cv_evidence(analyst):
    run = TrainingRunFactory()
    ModelVersionFactory(architecture="naive", training_run=run, cv_metrics={"legacy_validation": {"mae": 20.0}})
    ModelVersionFactory(architecture="lstm", training_run=run, cv_metrics={"legacy_validation": {"mae": 19.0}})

    content = analyst.get(reverse("training:models")).content.decode()

    rows = rows_of(leaderboard_of(content))
    assert cells(rows["lstm"])[-1] == "no CV evidence (trained before the rolling-origin protocol)"
    assert "The rule on these numbers" not in content  # nothing to apply it to
    versions_table = content[content.index("All versions") :]
    assert "no CV evidence (trained before the rolling-origin protocol)" in versions_table


def test_without_runs_the_page_says_how_to_get_a_leaderboard(analyst):
    content = analyst.get(reverse("training:models")).content.decode()

    assert "No finished training run yet" in content


def test_the_leaderboard_has_no_inline_script_or_style(analyst, latest):
    assert inline_code(analyst.get(reverse("training:models")).content.decode()) == []


def test_a_runs_page_links_to_its_leaderboard(analyst, latest):
    run, _ = latest

    content = analyst.get(reverse("training:training-run", args=[run.pk])).content.decode()

    assert f'href="/models/?run={run.pk}"' in content
