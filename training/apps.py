from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training and models"

    def ready(self):
        # After Django has created this app's permissions (auth's post_migrate receiver runs first).
        post_migrate.connect(_ml_engineers_group_ensure, sender=self, dispatch_uid="training.ml_engineers_group")


def _ml_engineers_group_ensure(sender, using, **kwargs):
    from training.services.access import ml_engineers_group_ensure

    if using == "default":
        ml_engineers_group_ensure()
