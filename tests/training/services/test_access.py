"""The "ML engineers" group: `migrate` creates it with the permissions to promote and to start runs."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from tests.factories import MLEngineerFactory, UserFactory
from training.permissions import ML_ENGINEERS_GROUP, PROMOTE_MODEL_VERSION, START_TRAINING_RUN

pytestmark = pytest.mark.django_db


def test_migrate_creates_the_group_with_both_permissions():
    group = Group.objects.get(name=ML_ENGINEERS_GROUP)  # the test database was made by `migrate`

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"promote_modelversion", "add_trainingrun"} <= codenames
    assert {"view_modelversion", "view_trainingrun", "view_championchange"} <= codenames  # the admin's pages
    engineer = MLEngineerFactory()
    assert engineer.has_perm(PROMOTE_MODEL_VERSION) and engineer.has_perm(START_TRAINING_RUN)
    assert not UserFactory(is_staff=True).has_perm(PROMOTE_MODEL_VERSION)


def test_every_migrate_puts_the_group_back_as_defined_and_keeps_its_members():
    engineer = MLEngineerFactory()
    group = Group.objects.get(name=ML_ENGINEERS_GROUP)
    group.permissions.remove(*group.permissions.filter(codename="add_trainingrun"))

    call_command("migrate", verbosity=0)  # what the compose `migrate` service and `make run` do first

    assert Group.objects.filter(name=ML_ENGINEERS_GROUP).count() == 1
    assert group.permissions.filter(codename="add_trainingrun").exists()
    assert list(group.user_set.all()) == [engineer]


def test_superusers_keep_every_permission():
    superuser = UserFactory(is_superuser=True)
    assert superuser.has_perm(PROMOTE_MODEL_VERSION) and superuser.has_perm(START_TRAINING_RUN)
