from django.urls import path

from training import apis

urlpatterns = [
    path("models/", apis.ModelVersionListApi.as_view(), name="api-models"),
    path("models/<int:version_id>/", apis.ModelVersionDetailApi.as_view(), name="api-model-detail"),
    path("models/<int:version_id>/promote/", apis.ModelVersionPromoteApi.as_view(), name="api-model-promote"),
    path("training-runs/", apis.TrainingRunListApi.as_view(), name="api-training-runs"),
    path("training-runs/<int:run_id>/", apis.TrainingRunDetailApi.as_view(), name="api-training-run-detail"),
]
