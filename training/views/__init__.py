"""Pages for model versions, champion history and training runs: `versions` (the leaderboard, a version's page,
promotion) and `runs` (starting and watching training runs).

Everyone signed in can look. Promoting a version needs `training.promote_modelversion` and starting a run
`training.add_trainingrun` (the ML engineers group; see training.permissions), as on the API and in the admin:
the controls are not rendered without the permission and their URLs answer 403. A running run's status is
polled by htmx every 2 s and the poll ends (HTTP 286) as soon as the run has finished.
"""

from django.contrib.auth.decorators import login_required, permission_required


def permission_needed(permission: str):
    """Anonymous visitors go to sign in; signed-in users without `permission` get 403."""

    def decorator(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorator
