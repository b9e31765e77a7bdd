from django.urls import path

from training import views

urlpatterns = [
    path("models/", views.model_list, name="models"),
    path("models/<int:version_id>/", views.model_detail, name="model-detail"),
    path("models/<int:version_id>/promote/", views.model_promote, name="model-promote"),
    path("training/", views.training, name="training"),
    path("training/start/", views.training_start, name="training-start"),
    path("training/runs/<int:run_id>/", views.training_run_detail, name="training-run"),
]
