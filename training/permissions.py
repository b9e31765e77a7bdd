"""Who may change the models: the permissions that the API, the pages and the admin all check (`has_perm`).

Promoting a version needs `training.promote_modelversion` (a custom permission of ModelVersion); starting a
training or tuning run needs `training.add_trainingrun`. Being staff is not enough. The "ML engineers" group
has both (`training.services.access`); superusers have every permission.
"""

PROMOTE_MODEL_VERSION = "training.promote_modelversion"
START_TRAINING_RUN = "training.add_trainingrun"
ML_ENGINEERS_GROUP = "ML engineers"

# What the group holds (codenames of app `training`): the two above, and reading the training rows in the admin,
# where the promote action lives.
ML_ENGINEERS_PERMISSIONS = (
    "promote_modelversion",
    "add_trainingrun",
    "view_modelversion",
    "view_trainingrun",
    "view_championchange",
)
