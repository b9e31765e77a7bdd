"""Token API for model versions and training runs: one APIView per operation.

Everyone signed in reads. Promoting needs `training.promote_modelversion`, starting a run `training.add_trainingrun`
(see training.permissions): the same checks as the pages and the admin.
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from training.evidence import (
    VerdictCode,
    naive_intervals,
    promotion_reason_needed,
    run_max_p,
    run_naive_of,
    run_naives,
    version_verdict,
)
from training.forms import REASON_MAX_LENGTH
from training.models import ModelVersion, TrainingRun
from training.permissions import PROMOTE_MODEL_VERSION, START_TRAINING_RUN
from training.schemas import (
    CVMetricsSchema,
    FeatureConfigSchema,
    IntervalsSchema,
    NaiveIntervalsSchema,
    ProtocolSchema,
    ProvenanceSchema,
    TestMetricsSchema,
    evidence_json_field,
)
from training.selectors import model_version_list, training_run_list
from training.services.promotion import model_version_promote
from training.services.runs import NETWORK_ARCHITECTURES, training_run_start


class CanPromote(BasePermission):
    message = f"Promoting a model version needs the {PROMOTE_MODEL_VERSION} permission (the ML engineers group)."

    def has_permission(self, request, view):
        return request.user.has_perm(PROMOTE_MODEL_VERSION)


class CanStartRuns(BasePermission):
    message = f"Starting a training run needs the {START_TRAINING_RUN} permission (the ML engineers group)."

    def has_permission(self, request, view):
        return request.user.has_perm(START_TRAINING_RUN)


class VerdictOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=VerdictCode.choices,
        help_text="baseline (naive itself), beats_naive (CV p < max_p), no_evidence (p ≥ max_p), "
        "no_cv_evidence (made before the rolling-origin protocol).",
    )
    text = serializers.CharField(help_text='In words, as the pages show it: "beats naive (p = 0.03)".')
    max_p = serializers.FloatField(help_text="The p threshold the verdict uses: the version's training run's.")


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    model_uri = serializers.CharField(read_only=True, help_text="MLflow model URI: models:/<name>/<version>.")
    p_value = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="One-sided Diebold–Mariano p against naive over the pooled CV days (cv_metrics.p_value); null for "
        "naive itself and for versions without CV evidence.",
    )
    verdict = serializers.SerializerMethodField(help_text="The version against naive, as a code and in words.")
    max_p = serializers.SerializerMethodField(
        help_text="The p threshold of the champion rule in the version's training run (its params.max_p); "
        "null without a run."
    )
    hyperparameters = serializers.JSONField(read_only=True, help_text="The kind's hyperparameters (none for naive).")
    cv_metrics = evidence_json_field(
        CVMetricsSchema, help_text="Rolling-origin cross-validation: pooled metrics, DM test against naive, per fold."
    )
    test_metrics = evidence_json_field(
        TestMetricsSchema, help_text="Walk-forward test at the live refit cadence (reported, never used to choose)."
    )
    feature_config = evidence_json_field(FeatureConfigSchema, help_text="The features the model reads.")
    protocol = evidence_json_field(ProtocolSchema, help_text="The evaluation windows (empty on legacy versions).")
    provenance = evidence_json_field(
        ProvenanceSchema, help_text="Library versions and code commit (empty on versions made before it was stored)."
    )
    intervals = evidence_json_field(
        IntervalsSchema,
        help_text="The bands: σ model and adaptive γ chosen on CV, the conformal multipliers, the live starting "
        "state and, once live forecasts are scored, the live state (empty on versions made before them).",
    )
    naive_intervals = serializers.SerializerMethodField(
        help_text="The bands of the same training run's naive version (for naive itself, its own), on the same CV "
        "and walk-forward test days: its interval scores and coverage by regime, to set beside cv_metrics and "
        "test_metrics without a second call; null when the run has no naive version."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "registered_name",
            "version",
            "model_uri",
            "run_id",
            "architecture",
            "is_champion",
            "p_value",
            "verdict",
            "max_p",
            "hyperparameters",
            "cv_metrics",
            "test_metrics",
            "feature_config",
            "protocol",
            "provenance",
            "refit_epochs",
            "data_start",
            "data_end",
            "selection_start",
            "test_start",
            "fitted_through",
            "intervals",
            "naive_intervals",
            "training_run",
            "created_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "The model version's id here (not MLflow's version number)."},
            "registered_name": {"help_text": "MLflow registered model name."},
            "version": {"help_text": "MLflow version number under the registered name."},
            "architecture": {"help_text": "The forecasting method."},
            "is_champion": {"help_text": "Whether this version serves the forecasts."},
            "refit_epochs": {"help_text": "Epochs of the served refit on all data (networks only)."},
            "data_start": {"help_text": "First day of the history it was trained on."},
            "data_end": {"help_text": "Last day of the history it was trained on."},
            "training_run": {"help_text": "The training run that made it (see /api/training-runs/{id}/)."},
            "created_at": {"help_text": "When it was registered here."},
        }

    @extend_schema_field(VerdictOutputSerializer)
    def get_verdict(self, version: ModelVersion) -> dict:
        verdict = version_verdict(version)
        return {"code": verdict.code, "text": verdict.text, "max_p": verdict.max_p}

    @extend_schema_field(NaiveIntervalsSchema(allow_null=True))
    def get_naive_intervals(self, version: ModelVersion) -> dict | None:
        naives = self.context.get("run_naives")  # the list's: one query for the page
        if naives is None or version.architecture == ModelVersion.Architecture.NAIVE:
            naive = run_naive_of(version)
        else:
            naive = naives.get(version.training_run_id)
        return naive_intervals(naive)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_max_p(self, version: ModelVersion) -> float | None:
        return run_max_p(version.training_run) if version.training_run_id is not None else None


class ChampionChangeOutputSerializer(serializers.Serializer):
    from_version = serializers.IntegerField(source="from_version_id", allow_null=True)
    to_version = serializers.IntegerField(source="to_version_id")
    actor = serializers.CharField()
    reason = serializers.CharField()
    changed_at = serializers.DateTimeField()


class TrainingRunOutputSerializer(serializers.ModelSerializer):
    started_by = serializers.CharField(source="started_by.username", allow_null=True, default=None)
    model_versions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "error",
            "params",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
            "model_versions",
        ]


class ModelVersionListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination  # also tells the schema that the list is paginated

    class FilterSerializer(serializers.Serializer):
        architecture = serializers.ChoiceField(choices=ModelVersion.Architecture.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ModelVersionOutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(model_version_list(**filters.validated_data), request, view=self)
        output = ModelVersionOutputSerializer(page, many=True, context={"run_naives": run_naives(page)})
        return paginator.get_paginated_response(output.data)


class ModelVersionDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ModelVersionOutputSerializer)
    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("training_run"), pk=version_id)
        return Response(ModelVersionOutputSerializer(version).data)


API_PROMOTION_REASON = "Promoted through the API"


class ModelVersionPromoteApi(APIView):
    permission_classes = [IsAuthenticated, CanPromote]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=REASON_MAX_LENGTH,
            required=False,
            allow_blank=True,
            help_text="Why this version should be the champion; recorded in the champion history. Required (400 "
            "otherwise) when the version's CV p against naive is not below CHAMPION_MAX_P or it has no CV "
            f'evidence; naive never needs one. Default: "{API_PROMOTION_REASON}".',
        )

        def validate(self, data):
            reason = data.get("reason", "").strip()
            needed = promotion_reason_needed(self.context["version"])
            if needed and not reason:
                raise serializers.ValidationError({"reason": [needed]})
            return {"reason": reason or API_PROMOTION_REASON}

    @extend_schema(request=InputSerializer, responses=ChampionChangeOutputSerializer)
    def post(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("training_run"), pk=version_id)
        data = self.InputSerializer(data=request.data, context={"version": version})
        data.is_valid(raise_exception=True)
        change = model_version_promote(model_version=version, user=request.user, reason=data.validated_data["reason"])
        return Response(ChampionChangeOutputSerializer(change).data)


class TrainingRunListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination  # also tells the schema that the list is paginated

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=TrainingRun.Kind.choices)
        trials = serializers.IntegerField(min_value=1, max_value=500, required=False)
        architectures = serializers.ListField(
            child=serializers.ChoiceField(choices=NETWORK_ARCHITECTURES), required=False, allow_empty=False
        )
        test_days = serializers.IntegerField(min_value=20, max_value=2000, required=False)
        promote = serializers.BooleanField(required=False, default=True)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), CanStartRuns()]
        return super().get_permissions()

    @extend_schema(responses=TrainingRunOutputSerializer(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(training_run_list().prefetch_related("model_versions"), request, self)
        return paginator.get_paginated_response(TrainingRunOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: TrainingRunOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = training_run_start(**data.validated_data, user=request.user)
        return Response(TrainingRunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class TrainingRunDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TrainingRunOutputSerializer)
    def get(self, request, run_id: int):
        run = get_object_or_404(TrainingRun.objects.select_related("started_by"), pk=run_id)
        return Response(TrainingRunOutputSerializer(run).data)
