from django.urls import path

from training.views import runs, versions

app_name = "training"

urlpatterns = [
    path("models/", versions.model_list, name="models"),
    path("models/<int:version_id>/", versions.model_detail, name="model-detail"),
    path("models/<int:version_id>/promote/", versions.model_promote, name="model-promote"),
    path("training/", runs.training, name="training"),
    path("training/start/", runs.training_start, name="training-start"),
    path("training/runs/<int:run_id>/", runs.training_run_detail, name="training-run"),
]
