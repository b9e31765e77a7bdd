"""The admin's "Promote to champion" action: one version, a confirmation step, the promotion service, and only for
users with `training.promote_modelversion` (the ML engineers group; superusers have every permission)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import MLEngineerFactory, ModelVersionFactory, StaffUserFactory
from training.models import ChampionChange, ModelVersion

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:training_modelversion_changelist")


@pytest.fixture
def admin_client(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    return client


def _action(client, versions, **extra):
    data = {"action": "promote_to_champion", "_selected_action": [v.pk for v in versions], **extra}
    return client.post(CHANGELIST, data, follow=True)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_action_asks_for_confirmation_first(admin_client, aliases):
    current = ModelVersionFactory(is_champion=True)
    candidate = ModelVersionFactory()

    response = _action(admin_client, [candidate])

    content = response.content.decode()
    assert "Promote to champion?" in content
    assert str(candidate) in content and str(current) in content
    assert ModelVersion.objects.get(is_champion=True) == current
    assert aliases == []


def test_confirming_promotes_through_the_service(admin_client, aliases):
    ModelVersionFactory(is_champion=True)
    candidate = ModelVersionFactory()

    response = _action(admin_client, [candidate], confirmed="yes", reason="better on validation")

    assert _messages(response) == [f"{candidate} is now the champion."]
    assert ModelVersion.objects.get(is_champion=True) == candidate
    change = ChampionChange.objects.get()
    assert (change.to_version, change.reason, change.automatic) == (candidate, "better on validation", False)
    assert aliases == [(candidate.registered_name, "champion", candidate.version)]


def test_exactly_one_version_must_be_selected(admin_client, aliases):
    response = _action(admin_client, [ModelVersionFactory(), ModelVersionFactory()], confirmed="yes")
    assert _messages(response) == ["Select exactly one model version to promote."]
    assert not ModelVersion.objects.filter(is_champion=True).exists()


def test_an_mlflow_failure_is_shown_and_changes_nothing(admin_client, monkeypatch):
    current = ModelVersionFactory(is_champion=True)
    candidate = ModelVersionFactory()

    def unreachable(**kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr("training.ml.registry.set_alias", unreachable)

    response = _action(admin_client, [candidate], confirmed="yes", reason="try")

    [message] = _messages(response)
    assert message.startswith("Promotion failed") and "connection refused" in message
    assert ModelVersion.objects.get(is_champion=True) == current
    assert not ChampionChange.objects.exists()


# --- Who may promote ----------------------------------------------------------------------------------------


def test_staff_without_permissions_are_refused(client, aliases):
    client.force_login(StaffUserFactory())
    candidate = ModelVersionFactory()

    response = client.post(
        CHANGELIST, {"action": "promote_to_champion", "_selected_action": [candidate.pk], "confirmed": "yes"}
    )

    assert response.status_code == 403
    assert not ModelVersion.objects.filter(is_champion=True).exists()
    assert aliases == []


def test_staff_who_may_change_versions_but_not_promote_are_not_offered_the_action(client, aliases):
    staff = StaffUserFactory()
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_modelversion", "change_modelversion"]))
    client.force_login(staff)
    candidate = ModelVersionFactory()

    page = client.get(CHANGELIST)
    response = _action(client, [candidate], confirmed="yes")

    assert page.status_code == 200 and "promote_to_champion" not in page.content.decode()
    assert f"{candidate} is now the champion." not in _messages(response)
    assert not ModelVersion.objects.filter(is_champion=True).exists()
    assert aliases == []


def test_ml_engineers_promote_in_the_admin(client, aliases):
    client.force_login(MLEngineerFactory())
    candidate = ModelVersionFactory()

    assert "promote_to_champion" in client.get(CHANGELIST).content.decode()
    response = _action(client, [candidate], confirmed="yes", reason="from the admin")

    assert _messages(response) == [f"{candidate} is now the champion."]
    assert ModelVersion.objects.get(is_champion=True) == candidate


# --- Evidence and the reason ----------------------------------------------------------------------------------


@pytest.fixture
def candidates(settings):
    from tests.factories import run_with_candidates

    settings.CHAMPION_MAX_P = 0.10
    return run_with_candidates(p_values={"lstm": 0.41})[1]


def test_the_confirmation_shows_the_evidence_and_asks_for_a_reason(admin_client, candidates):
    response = _action(admin_client, [candidates["lstm"]])

    content = response.content.decode()
    assert 'data-testid="promotion-evidence"' in content
    assert "no evidence it beats naive (p = 0.41)" in content
    assert "A reason is required" in content
    assert 'name="reason"' in content and 'class="required"' in content


def test_confirming_without_a_reason_asks_again_and_changes_nothing(admin_client, candidates, aliases):
    response = _action(admin_client, [candidates["lstm"]], confirmed="yes", reason="")

    assert "Promote to champion?" in response.content.decode()
    assert "A reason is required" in response.content.decode()
    assert not ModelVersion.objects.filter(is_champion=True).exists()
    assert not ChampionChange.objects.exists() and aliases == []


def test_naive_is_promoted_without_a_reason(admin_client, candidates, aliases):
    response = _action(admin_client, [candidates["naive"]], confirmed="yes", reason="")

    assert _messages(response) == [f"{candidates['naive']} is now the champion."]
    assert ChampionChange.objects.get().reason == "Promoted in admin"


def test_the_list_shows_each_versions_verdict(admin_client, candidates):
    content = admin_client.get(CHANGELIST).content.decode()

    assert "no evidence it beats naive (p = 0.41)" in content and "the baseline" in content
