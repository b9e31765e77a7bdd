from django.urls import path

from training import apis

app_name = "training-api"

urlpatterns = [
    path("models/", apis.ModelVersionListApi.as_view(), name="models"),
    path("models/<int:version_id>/", apis.ModelVersionDetailApi.as_view(), name="model-detail"),
    path("models/<int:version_id>/promote/", apis.ModelVersionPromoteApi.as_view(), name="model-promote"),
    path("training-runs/", apis.TrainingRunListApi.as_view(), name="training-runs"),
    path("training-runs/<int:run_id>/", apis.TrainingRunDetailApi.as_view(), name="training-run-detail"),
]
