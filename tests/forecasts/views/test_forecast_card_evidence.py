"""The dashboard's forecast card says in words how the champion stands against naive ("tomorrow = today"): when naive
is champion, that no model beat it with evidence and which candidate came closest; otherwise the champion's own p."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from tests.factories import ForecastFactory, UserFactory, run_with_candidates
from training.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    client.force_login(UserFactory())
    return client


def card_sentence(content: str) -> str:
    match = re.search(r'data-testid="champion-evidence">(.*?)</p>', content, re.S)
    assert match, "the card has no evidence sentence"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()))


def crown(version: ModelVersion) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(is_champion=True)


def test_with_naive_champion_the_card_names_the_best_candidate_and_its_p(signed_in):
    run, versions = run_with_candidates(
        p_values={"mlp": 0.5, "lstm": 0.31}, fold_rmaes={"mlp": [1.0] * 5, "lstm": [0.99] * 5}
    )
    crown(versions["naive"])
    ForecastFactory(model_version=versions["naive"], target_date=dt.date(2025, 9, 25))

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    sentence = card_sentence(content)
    assert sentence.startswith("No model beat 'tomorrow = today' with evidence; best candidate LSTM, p = 0.31.")
    assert f'href="/models/?run={run.pk}"' in content


def test_a_network_champion_shows_its_p(signed_in):
    _, versions = run_with_candidates(p_values={"lstm": 0.03})
    crown(versions["lstm"])
    ForecastFactory(model_version=versions["lstm"], target_date=dt.date(2025, 9, 25))

    sentence = card_sentence(signed_in.get(reverse("forecasts:dashboard")).content.decode())

    assert sentence.startswith("LSTM beat 'tomorrow = today' with evidence (cross-validation p = 0.03).")


def test_the_sentence_is_there_before_the_champions_first_forecast(signed_in):
    _, versions = run_with_candidates(p_values={"cnn": 0.2})
    crown(versions["naive"])

    content = signed_in.get(reverse("forecasts:dashboard")).content.decode()

    assert "No forecast yet" in content
    assert card_sentence(content).startswith("No model beat 'tomorrow = today' with evidence; best candidate CNN")


def test_without_a_champion_there_is_no_sentence(signed_in):
    assert 'data-testid="champion-evidence"' not in signed_in.get(reverse("forecasts:dashboard")).content.decode()
