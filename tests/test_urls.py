"""URL names: every one of the project's is namespaced ("app:name"), and the paths behind them are the same."""

import importlib

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

# Namespaces that are not the project's: Django's admin names its own URLs.
NOT_OURS = {"admin"}

APP_URLCONFS = {
    "forecasts.urls": "forecasts",
    "forecasts.api_urls": "forecasts-api",
    "training.urls": "training",
    "training.api_urls": "training-api",
}

# Every named URL of the project, by its namespaced name, with the path it has always had.
PATHS = {
    ("goldsite:health", ()): "/health/",
    ("goldsite:api-schema", ()): "/api/schema/",
    ("goldsite:api-docs", ()): "/api/docs/",
    ("forecasts:dashboard", ()): "/",
    ("forecasts:login", ()): "/accounts/login/",
    ("forecasts:logout", ()): "/accounts/logout/",
    ("forecasts:api-token", ()): "/account/api-token/",
    ("forecasts:api-token-regenerate", ()): "/account/api-token/regenerate/",
    ("forecasts-api:token-obtain", ()): "/api/auth/token/",
    ("forecasts-api:prices", ()): "/api/prices/",
    ("forecasts-api:forecasts", ()): "/api/forecasts/",
    ("forecasts-api:forecast-latest", ()): "/api/forecasts/latest/",
    ("forecasts-api:predict", ()): "/api/predict/",
    ("forecasts-api:accuracy", ()): "/api/accuracy/",
    ("training:models", ()): "/models/",
    ("training:model-detail", (7,)): "/models/7/",
    ("training:model-promote", (7,)): "/models/7/promote/",
    ("training:training", ()): "/training/",
    ("training:training-start", ()): "/training/start/",
    ("training:training-run", (7,)): "/training/runs/7/",
    ("training-api:models", ()): "/api/models/",
    ("training-api:model-detail", (7,)): "/api/models/7/",
    ("training-api:model-promote", (7,)): "/api/models/7/promote/",
    ("training-api:training-runs", ()): "/api/training-runs/",
    ("training-api:training-run-detail", (7,)): "/api/training-runs/7/",
}

# The names as they were before the namespaces, each of which must now fail to reverse.
OLD_NAMES = [
    ("health", ()),
    ("api-schema", ()),
    ("api-docs", ()),
    ("dashboard", ()),
    ("login", ()),
    ("logout", ()),
    ("api-token", ()),
    ("api-token-regenerate", ()),
    ("api-token-obtain", ()),
    ("api-prices", ()),
    ("api-forecasts", ()),
    ("api-forecast-latest", ()),
    ("api-predict", ()),
    ("api-accuracy", ()),
    ("models", ()),
    ("model-detail", (7,)),
    ("model-promote", (7,)),
    ("training", ()),
    ("training-start", ()),
    ("training-run", (7,)),
    ("api-models", ()),
    ("api-model-detail", (7,)),
    ("api-model-promote", (7,)),
    ("api-training-runs", ()),
    ("api-training-run-detail", (7,)),
]


def named_patterns(resolver: URLResolver, namespace: str = ""):
    """(namespace, name) of every named pattern under `resolver`; nested namespaces joined with ":"."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry.name


def project_names() -> set[str]:
    return {
        f"{namespace}:{name}" if namespace else name
        for namespace, name in named_patterns(get_resolver())
        if namespace.split(":")[0] not in NOT_OURS
    }


def test_every_named_url_of_the_project_is_namespaced():
    unnamespaced = sorted(name for name in project_names() if ":" not in name)

    assert unnamespaced == []


def test_each_app_urlconf_declares_its_namespace():
    declared = {module: getattr(importlib.import_module(module), "app_name", None) for module in APP_URLCONFS}

    assert declared == APP_URLCONFS


def test_the_named_urls_are_exactly_these_and_their_paths_are_unchanged():
    assert project_names() == {name for name, _args in PATHS}
    assert {key: reverse(key[0], args=key[1]) for key in PATHS} == PATHS


@pytest.mark.parametrize(("name", "args"), OLD_NAMES)
def test_the_old_unnamespaced_names_no_longer_reverse(name, args):
    with pytest.raises(NoReverseMatch):
        reverse(name, args=args)


def test_the_nav_marks_the_current_page_by_its_namespaced_name(admin_client):
    """The nav compares the page's `view_name`; the admin link is Django's own `admin:index`."""
    content = admin_client.get(reverse("training:models")).content.decode()

    assert f'href="{reverse("training:models")}" aria-current="page">Models' in content
    assert f'href="{reverse("forecasts:dashboard")}">Dashboard' in content
    assert f'href="{reverse("admin:index")}"' in content
