from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ModelVersion(models.Model):
    """A registered MLflow model version, mirrored so pages and the API never have to ask MLflow."""

    class Architecture(models.TextChoices):
        NAIVE = "naive", "Naive (tomorrow = today)"
        DRIFT = "drift", "Drift (naive + trailing mean return)"
        MLP = "mlp", "MLP"
        CNN = "cnn", "CNN"
        LSTM = "lstm", "LSTM"
        ENSEMBLE = "ensemble", "Ensemble (mean of the networks)"

    registered_name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    run_id = models.CharField(max_length=64, help_text="The MLflow run that produced this version.")
    architecture = models.CharField(max_length=8, choices=Architecture.choices)
    hyperparameters = models.JSONField(default=dict, blank=True)
    cv_metrics = models.JSONField(
        default=dict, blank=True, help_text="Rolling-origin CV of the selection period: pooled, per fold, DM vs naive."
    )
    test_metrics = models.JSONField(default=dict, blank=True, help_text="Walk-forward test at the live refit cadence.")
    feature_config = models.JSONField(default=dict, blank=True)
    protocol = models.JSONField(
        default=dict, blank=True, help_text="test_days, selection_days, folds, retrain_every, lookback"
    )
    refit_epochs = models.PositiveIntegerField(null=True, blank=True)
    intervals = models.JSONField(
        default=dict,
        blank=True,
        help_text="Bands: σ model, adaptive γ, starting state α_0 and split-conformal multipliers (chosen on CV).",
    )
    data_start = models.DateField(null=True, blank=True)
    data_end = models.DateField(null=True, blank=True)
    selection_start = models.DateField(null=True, blank=True, help_text="First CV target date.")
    test_start = models.DateField(null=True, blank=True, help_text="First walk-forward test target date.")
    fitted_through = models.DateField(null=True, blank=True, help_text="Last target date the served model learnt from.")
    provenance = models.JSONField(
        default=dict,
        blank=True,
        help_text='What made the version (its MLflow version tags): {"library_versions": {library: version}, '
        '"code_commit": git commit}. Empty for versions recorded before it was stored.',
    )
    is_champion = models.BooleanField(default=False)
    training_run = models.ForeignKey(
        "training.TrainingRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="model_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-version"]
        permissions = [("promote_modelversion", "Can promote a model version to champion")]
        constraints = [
            models.UniqueConstraint(fields=["registered_name", "version"], name="modelversion_unique_name_version"),
            models.UniqueConstraint(
                fields=["is_champion"], condition=Q(is_champion=True), name="modelversion_single_champion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registered_name} v{self.version} ({self.architecture})"

    @property
    def model_uri(self) -> str:
        return f"models:/{self.registered_name}/{self.version}"

    @property
    def cv_mae(self) -> float | None:
        return self.cv_metrics.get("mae")

    @property
    def cv_rmae(self) -> float | None:
        return self.cv_metrics.get("rmae")

    @property
    def p_value(self) -> float | None:
        """One-sided Diebold–Mariano p against naive over the pooled CV days (None for naive itself)."""
        if self.architecture == self.Architecture.NAIVE:
            return None
        return self.cv_metrics.get("p_value")

    @property
    def test_rmae(self) -> float | None:
        return self.test_metrics.get("rmae")


class TrainingRun(models.Model):
    """One request to train (refit known hyperparameters) or tune (hyperopt search), and how it went."""

    class Kind(models.TextChoices):
        TRAIN = "train", "Train"
        TUNE = "tune", "Tune"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Every row holds the same slot; the conditional unique constraint below lets only one active row hold it.
    slot = models.CharField(max_length=16, default="training", editable=False)
    params = models.JSONField(default=dict, blank=True, help_text="trials, architectures, test_days, promote")
    progress = models.PositiveSmallIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="training_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Where the run executes, recorded when it starts running: what lets `training_runs_recover` tell a run whose
    # process died (kill -9, out of memory) from one that is still busy.
    host = models.CharField(max_length=255, blank=True, help_text="The machine (hostname) executing the run.")
    pid = models.PositiveIntegerField(null=True, blank=True, help_text="The id of the process executing the run.")
    worker = models.CharField(
        max_length=255, blank=True, help_text='The Celery worker (its hostname), or "in-process" without a broker.'
    )
    process_start = models.CharField(
        max_length=120,
        blank=True,
        help_text="Boot id, pid namespace and start time of that process (Linux): they tell it from a later "
        "process given the same pid.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status__in=["queued", "running"]),
                name="trainingrun_one_active",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="trainingrun_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run #{self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def duration(self):
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class ChampionChange(models.Model):
    """Who moved the champion alias, from which version to which, when and why (MLflow keeps no history)."""

    from_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="champion_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    automatic = models.BooleanField(default=False, help_text="Chosen by a training run rather than a person.")
    reason = models.CharField(max_length=500, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_version or '-'} -> {self.to_version} by {self.actor}"

    @property
    def actor(self) -> str:
        if self.automatic:
            return "auto"
        return self.changed_by.get_username() if self.changed_by else "unknown"


class TrainingCandidate(models.Model):
    """One candidate kind of a run while it is evaluated: its plan (`training.ml.plan`) between rounds of fits."""

    class Status(models.TextChoices):
        OPEN = "open", "Fitting"
        COMPLETE = "complete", "Registered"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="candidates")
    kind = models.CharField(max_length=8, choices=ModelVersion.Architecture.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    round = models.PositiveIntegerField(default=0, help_text="The round of fits out (or last recorded).")
    state = models.JSONField(default=dict, blank=True, help_text="The candidate's plan and MLflow run.")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run_id", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "kind"], name="trainingcandidate_unique_run_kind")]

    def __str__(self) -> str:
        return f"{self.kind} of run #{self.run_id} ({self.status})"


class TrainingFit(models.Model):
    """One unit of a run's graph: one configuration on one CV fold, or one walk-forward block; who ran it."""

    class Stage(models.TextChoices):
        CV = "cv", "Cross-validation fold"
        WALK = "walk", "Walk-forward block"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped (run no longer running)"

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="fits")
    candidate = models.ForeignKey(TrainingCandidate, on_delete=models.CASCADE, related_name="fits")
    round = models.PositiveIntegerField()
    stage = models.CharField(max_length=4, choices=Stage.choices)
    trial = models.PositiveIntegerField()
    fold = models.PositiveIntegerField()
    unit = models.JSONField(help_text="The fit's plain parameters (training.ml.plan.Unit).")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True, help_text="Its out-of-sample forecasts and fit report.")
    worker = models.CharField(max_length=255, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["candidate_id", "round", "trial", "fold"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "stage", "trial", "fold"], name="trainingfit_unique_candidate_unit"
            )
        ]
        indexes = [models.Index(fields=["run", "status"], name="trainingfit_run_status_idx")]

    def __str__(self) -> str:
        return f"{self.candidate.kind} {self.stage} trial {self.trial} fold {self.fold + 1} ({self.status})"
