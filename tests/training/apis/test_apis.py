"""Model versions and training runs over the token API: anyone signed in reads; promoting and starting runs need
`training.promote_modelversion` and `training.add_trainingrun` (the "ML engineers" group), not just staff."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import (
    MLEngineerFactory,
    ModelVersionFactory,
    StaffUserFactory,
    TrainingRunFactory,
    UserFactory,
    run_with_candidates,
)
from training.models import ChampionChange, ModelVersion, TrainingRun

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def api():
    return client_for(UserFactory())


@pytest.fixture
def staff_api():
    """Staff without any permission."""
    return client_for(StaffUserFactory())


@pytest.fixture
def engineer():
    return MLEngineerFactory()


@pytest.fixture
def engineer_api(engineer):
    return client_for(engineer)


@pytest.fixture
def not_executed(no_execution):
    """Queue runs without executing them."""
    return no_execution


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/models/"),
        ("get", "/api/models/1/"),
        ("post", "/api/models/1/promote/"),
        ("get", "/api/training-runs/"),
        ("post", "/api/training-runs/"),
        ("get", "/api/training-runs/1/"),
    ],
)
def test_every_endpoint_needs_a_token(anonymous, method, url):
    assert getattr(anonymous, method)(url).status_code == 401


class TestModelVersions:
    def test_lists_versions_newest_first_filtered_by_architecture(self, api):
        ModelVersionFactory(architecture="naive", version=1)
        mlp = ModelVersionFactory(architecture="mlp", version=2, is_champion=True)

        body = api.get("/api/models/").json()
        assert [v["version"] for v in body["results"]] == [2, 1]

        only_mlp = api.get("/api/models/", {"architecture": "mlp"}).json()
        assert [v["id"] for v in only_mlp["results"]] == [mlp.pk]
        assert only_mlp["results"][0]["model_uri"] == "models:/gold-next-day/2"
        assert only_mlp["results"][0]["is_champion"] is True

    def test_an_unknown_architecture_is_refused(self, api):
        response = api.get("/api/models/", {"architecture": "transformer"})
        assert response.status_code == 400
        assert list(response.json()) == ["architecture"]

    def test_shows_one_version(self, api):
        version = ModelVersionFactory(architecture="lstm")
        body = api.get(f"/api/models/{version.pk}/").json()
        assert (body["id"], body["architecture"], body["cv_metrics"]["mae"]) == (version.pk, "lstm", 20.0)
        assert api.get("/api/models/999/").status_code == 404


class TestPromotion:
    def test_ml_engineers_promote_a_version_to_champion(self, engineer_api, engineer, aliases):
        old = ModelVersionFactory(is_champion=True)
        new = ModelVersionFactory(architecture="cnn")

        response = engineer_api.post(f"/api/models/{new.pk}/promote/", {"reason": "lower MAE"}, format="json")

        assert response.status_code == 200
        assert response.json() == {
            "from_version": old.pk,
            "to_version": new.pk,
            "actor": engineer.username,
            "reason": "lower MAE",
            "changed_at": response.json()["changed_at"],
        }
        assert list(ModelVersion.objects.filter(is_champion=True)) == [new]
        assert aliases == [(new.registered_name, "champion", new.version)]

    @pytest.mark.parametrize("who", ["api", "staff_api"])
    def test_without_the_permission_nobody_promotes_staff_included(self, request, who, aliases):
        version = ModelVersionFactory()
        response = request.getfixturevalue(who).post(f"/api/models/{version.pk}/promote/", {}, format="json")
        assert response.status_code == 403
        assert "training.promote_modelversion" in response.json()["detail"]
        assert not ChampionChange.objects.exists()
        assert aliases == []

    def test_the_permission_alone_is_enough(self, aliases):
        from django.contrib.auth.models import Permission

        user = UserFactory()  # not staff, not in the group
        user.user_permissions.add(Permission.objects.get(codename="promote_modelversion"))
        version = ModelVersionFactory()
        response = client_for(user).post(f"/api/models/{version.pk}/promote/", {"reason": "mine"}, format="json")
        assert response.status_code == 200

    def test_promoting_the_champion_again_is_refused(self, engineer_api, aliases):
        champion = ModelVersionFactory(is_champion=True)
        response = engineer_api.post(f"/api/models/{champion.pk}/promote/", {"reason": "again"}, format="json")
        assert response.status_code == 409  # it clashes with the current state (another promotion may just have won)
        assert response.json()["code"] == "already_champion"
        assert "already the champion" in response.json()["detail"]

    def test_an_unknown_version_is_404(self, engineer_api, aliases):
        assert engineer_api.post("/api/models/999/promote/", {}, format="json").status_code == 404

    def test_a_version_without_evidence_needs_a_reason(self, engineer_api, aliases, settings):
        settings.CHAMPION_MAX_P = 0.10
        _, versions = run_with_candidates(p_values={"lstm": 0.41})

        response = engineer_api.post(f"/api/models/{versions['lstm'].pk}/promote/", {"reason": " "}, format="json")

        assert response.status_code == 400
        assert list(response.json()) == ["reason"]
        assert "A reason is required" in response.json()["reason"][0]
        assert "p = 0.41 ≥ 0.1" in response.json()["reason"][0]
        assert not ChampionChange.objects.exists() and aliases == []

    @pytest.mark.parametrize("kind", ["naive", "mlp"])
    def test_naive_and_versions_with_evidence_need_none(self, engineer_api, aliases, settings, kind):
        settings.CHAMPION_MAX_P = 0.10
        _, versions = run_with_candidates(p_values={"mlp": 0.03})

        response = engineer_api.post(f"/api/models/{versions[kind].pk}/promote/", {}, format="json")

        assert response.status_code == 200
        assert response.json()["reason"] == "Promoted through the API"


class TestTrainingRuns:
    def test_ml_engineers_start_a_run_which_is_accepted(self, engineer_api, engineer, not_executed):
        response = engineer_api.post(
            "/api/training-runs/", {"kind": "tune", "trials": 3, "architectures": ["lstm", "mlp"]}, format="json"
        )

        assert response.status_code == 202
        body = response.json()
        assert (body["kind"], body["status"], body["started_by"]) == ("tune", "queued", engineer.username)
        assert body["params"]["architectures"] == ["mlp", "lstm"]
        assert not_executed == [body["id"]]

    def test_a_second_run_while_one_is_active_is_a_conflict(self, engineer_api, not_executed):
        active = TrainingRunFactory(status=TrainingRun.Status.RUNNING)

        response = engineer_api.post("/api/training-runs/", {"kind": "train"}, format="json")

        assert response.status_code == 409
        assert response.json()["code"] == "training_run_active"
        assert f"#{active.pk}" in response.json()["detail"]
        assert not_executed == []

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({}, "kind"),
            ({"kind": "bake"}, "kind"),
            ({"kind": "tune", "trials": 0}, "trials"),
            ({"kind": "tune", "architectures": ["transformer"]}, "architectures"),
            ({"kind": "tune", "architectures": []}, "architectures"),
            ({"kind": "train", "test_days": 5}, "test_days"),
        ],
    )
    def test_bad_requests_are_refused_per_field(self, engineer_api, not_executed, payload, field):
        response = engineer_api.post("/api/training-runs/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not TrainingRun.objects.exists()

    @pytest.mark.parametrize("who", ["api", "staff_api"])
    def test_without_the_permission_users_list_but_do_not_start_runs(self, request, who, not_executed):
        api = request.getfixturevalue(who)
        run = TrainingRunFactory()

        refused = api.post("/api/training-runs/", {"kind": "train"}, format="json")
        assert refused.status_code == 403
        assert "training.add_trainingrun" in refused.json()["detail"]
        body = api.get("/api/training-runs/").json()
        assert [r["id"] for r in body["results"]] == [run.pk]
        assert api.get(f"/api/training-runs/{run.pk}/").json()["status"] == "succeeded"
        assert not_executed == []


class TestEvidence:
    def test_a_version_carries_its_evidence(self, api):
        run, versions = run_with_candidates(p_values={"lstm": 0.03})
        lstm = versions["lstm"]
        lstm.test_metrics["winkler_80"] = 81.25
        lstm.provenance = {"library_versions": {"numpy": "2.3.3"}, "code_commit": "abc1234"}
        lstm.save()

        body = api.get(f"/api/models/{lstm.pk}/").json()

        assert body["p_value"] == 0.03
        assert body["verdict"] == {"code": "beats_naive", "text": "beats naive (p = 0.03)", "max_p": 0.1}
        assert body["max_p"] == 0.1
        assert [f["rmae"] for f in body["cv_metrics"]["folds"]] == [0.99, 0.97, 1.02, 0.98, 0.99]
        assert set(body["cv_metrics"]["folds"][0]) == {
            "fold", "start", "end", "n", "mae", "naive_mae", "rmae", "best_epoch"
        }  # fmt: skip
        assert body["test_metrics"]["rmae"] == lstm.test_metrics["rmae"]
        assert body["test_metrics"]["winkler_80"] == 81.25
        assert body["provenance"] == {"library_versions": {"numpy": "2.3.3"}, "code_commit": "abc1234"}

    def test_the_list_carries_verdicts_naive_and_legacy_included(self, api):
        run_with_candidates(p_values={"mlp": 0.41})
        ModelVersionFactory(architecture="cnn", cv_metrics={"legacy_validation": {"mae": 19.0}})

        results = api.get("/api/models/").json()["results"]

        verdicts = {(v["architecture"], v["verdict"]["code"], v["verdict"]["text"], v["p_value"]) for v in results}
        assert verdicts == {
            ("naive", "baseline", "the baseline", None),
            ("mlp", "no_evidence", "no evidence it beats naive (p = 0.41)", 0.41),
            ("cnn", "no_cv_evidence", "no CV evidence (trained before the rolling-origin protocol)", None),
        }
        legacy = next(v for v in results if v["architecture"] == "cnn")
        assert legacy["max_p"] is None and legacy["provenance"] == {}


class TestBands:
    """The bands' evidence: the interval keys pass through cv_metrics / test_metrics / intervals, and
    `naive_intervals` carries the same run's naive band so a client compares without a second call."""

    def test_a_version_carries_its_bands_and_its_runs_naive_band(self, api):
        run, versions = run_with_candidates(p_values={"lstm": 0.03})
        lstm, naive = versions["lstm"], versions["naive"]
        naive.test_metrics["winkler_80"] = 125.4
        naive.save()
        lstm.test_metrics["winkler_80"] = 125.3
        lstm.save()
        ModelVersionFactory(architecture="naive", hyperparameters={})  # another run's naive: never used

        body = api.get(f"/api/models/{lstm.pk}/").json()

        assert body["test_metrics"]["winkler_80"] == 125.3
        assert body["test_metrics"]["coverage_by_regime"]["calm"]["coverage_80"] == 0.72
        assert [row["volatility"] for row in body["cv_metrics"]["interval_choice"]][:2] == ["realised", "realised"]
        assert body["intervals"]["volatility"] == "ewma" and body["intervals"]["gamma"] == 0.01
        bands = body["naive_intervals"]
        assert (bands["id"], bands["label"]) == (naive.pk, str(naive))
        assert bands["test"]["winkler_80"] == 125.4
        assert set(bands["test"]) == {
            "coverage_80", "coverage_95", "width_80", "width_95", "winkler_80", "winkler_95", "pinball", "crps",
            "coverage_by_regime",
        }  # fmt: skip
        assert bands["cv"]["coverage_by_regime"] == naive.cv_metrics["coverage_by_regime"]
        assert "interval_choice" not in bands["cv"]

    def test_naives_own_bands_are_its_naive_intervals_and_a_version_without_a_run_has_none(self, api):
        _, versions = run_with_candidates(p_values={"mlp": 0.5})
        alone = ModelVersionFactory(architecture="mlp")

        naive = api.get(f"/api/models/{versions['naive'].pk}/").json()
        lonely = api.get(f"/api/models/{alone.pk}/").json()

        assert naive["naive_intervals"]["id"] == versions["naive"].pk
        assert lonely["naive_intervals"] is None

    def test_a_version_made_before_the_bands_has_empty_windows(self, api):
        run = TrainingRunFactory()
        ModelVersionFactory(architecture="naive", hyperparameters={}, training_run=run)
        legacy = ModelVersionFactory(architecture="mlp", training_run=run)

        body = api.get(f"/api/models/{legacy.pk}/").json()

        assert body["naive_intervals"]["cv"] == {} and body["naive_intervals"]["test"] == {}
        assert body["intervals"] == {}

    def test_the_list_gives_each_version_its_own_runs_naive_band_in_one_query(self, api):
        _, first_versions = run_with_candidates(p_values={"mlp": 0.5})
        api.get("/api/models/")  # the token's first use
        with CaptureQueriesContext(connection) as one_run:
            api.get("/api/models/")
        _, second_versions = run_with_candidates(p_values={"mlp": 0.5, "lstm": 0.2})

        with CaptureQueriesContext(connection) as two_runs:
            results = api.get("/api/models/").json()["results"]

        assert len(results) == 5
        assert len(two_runs) == len(one_run)
        naive_of = {v["id"]: v["naive_intervals"]["id"] for v in results}
        assert naive_of[first_versions["mlp"].pk] == first_versions["naive"].pk
        assert naive_of[second_versions["lstm"].pk] == second_versions["naive"].pk
        assert naive_of[second_versions["naive"].pk] == second_versions["naive"].pk


def schema_components() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()["components"]["schemas"]


@pytest.mark.parametrize(
    "component",
    [
        "ModelVersionOutput",
        "VerdictOutput",
        "CVMetricsSchema",
        "FoldSchema",
        "TestMetricsSchema",
        "ProtocolSchema",
        "FeatureConfigSchema",
        "ProvenanceSchema",
        "IntervalScoresSchema",
        "IntervalChoiceSchema",
        "RegimeCoverageSchema",
        "CoverageByRegimeSchema",
        "IntervalsSchema",
        "AlphaSchema",
        "QuantilesSchema",
        "HeldSchema",
        "BandStateSchema",
        "NaiveIntervalsSchema",
    ],
)
def test_the_schema_describes_every_field_of_the_evidence(component):
    properties = schema_components()[component]["properties"]

    undocumented = [name for name, spec in properties.items() if not spec.get("description")]
    assert undocumented == []


def test_the_schema_spells_out_the_evidence_shapes():
    schemas = schema_components()
    version = schemas["ModelVersionOutput"]["properties"]

    assert version["cv_metrics"]["allOf"] == [{"$ref": "#/components/schemas/CVMetricsSchema"}]
    assert version["verdict"]["allOf"] == [{"$ref": "#/components/schemas/VerdictOutput"}]
    assert version["p_value"]["nullable"] is True and version["max_p"]["nullable"] is True
    assert schemas["CVMetricsSchema"]["properties"]["folds"]["items"] == {"$ref": "#/components/schemas/FoldSchema"}
    assert {"winkler_80", "coverage_80", "rmae"} <= set(schemas["TestMetricsSchema"]["properties"])
    assert schemas["VerdictCodeEnum"]["enum"] == ["baseline", "beats_naive", "no_evidence", "no_cv_evidence"]
    promote = schemas["ModelVersionPromoteInputRequest"]["properties"]["reason"]
    assert "Required (400 otherwise)" in promote["description"]


def test_the_schema_spells_out_the_bands():
    schemas = schema_components()
    version = schemas["ModelVersionOutput"]["properties"]
    ref = "#/components/schemas/"

    assert version["intervals"]["allOf"] == [{"$ref": ref + "IntervalsSchema"}]
    assert version["naive_intervals"]["allOf"] == [{"$ref": ref + "NaiveIntervalsSchema"}]
    assert version["naive_intervals"]["nullable"] is True
    for window in ("CVMetricsSchema", "TestMetricsSchema"):
        properties = schemas[window]["properties"]
        assert {"winkler_80", "winkler_95", "pinball", "crps", "coverage_80", "coverage_95"} <= set(properties)
        assert properties["coverage_by_regime"]["allOf"] == [{"$ref": ref + "CoverageByRegimeSchema"}]
    assert set(schemas["CoverageByRegimeSchema"]["properties"]) == {"calm", "normal", "volatile"}
    assert set(schemas["RegimeCoverageSchema"]["properties"]) == {
        "n", "sigma_max", "coverage_80", "coverage_95", "width_80", "width_95"
    }  # fmt: skip
    choice = schemas["CVMetricsSchema"]["properties"]["interval_choice"]
    assert choice["items"] == {"$ref": ref + "IntervalChoiceSchema"}
    intervals = schemas["IntervalsSchema"]["properties"]
    assert {"volatility", "volatility_label", "gamma", "alpha0", "quantiles", "calibration_days", "state"} == set(
        intervals
    )
    assert set(schemas["BandStateSchema"]["properties"]) == {"alpha", "days", "held", "through"}
    assert set(schemas["AlphaSchema"]["properties"]) == {"80", "95"}
