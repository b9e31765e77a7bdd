"""Which code may import which: read from the source itself (every import, lazy ones inside functions included).

- training reads market data only through forecasts.selectors.prices and imports nothing else of forecasts
  (forecasts may import training: dependencies run one way);
- no app imports another app's views, templatetags or apis (shared presentation is goldsite.presentation);
- training.ml is plain Python: nothing from Django, the project or the rest of training;
- numbers are formatted by goldsite.presentation.formatting alone: no app defines one of its formatters again.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("forecasts", "training", "goldsite")
PRIVATE_PARTS = ("views", "templatetags", "apis")
TRAINING_MAY_IMPORT = "forecasts.selectors.prices"
NOT_IN_ML = ("django", "rest_framework", "forecasts", "goldsite", "training")
FORMATTING = ROOT / "goldsite" / "presentation" / "formatting.py"


def _sources(*folders: str) -> list[Path]:
    files = [
        path
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]
    assert files, f"no Python files under {folders}"
    return files


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    module = _module_of(path)
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports(tree: ast.AST, *, package: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything `tree` imports anywhere, `from a import b` as "a.b"."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"


def _imports_of(path: Path) -> Iterator[tuple[int, str]]:
    yield from imports(ast.parse(path.read_text(), filename=str(path)), package=_package_of(path))


def _within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def _report(offences: list[str], rule: str) -> str:
    return f"{rule}; offending imports or definitions ({len(offences)}):\n  " + "\n  ".join(offences)


def test_imports_are_found_inside_functions_and_relative_ones_resolved():
    tree = ast.parse("def late():\n    from forecasts.dispatch import x\n    from ..views import y\n")
    assert list(imports(tree, package="training.services")) == [(2, "forecasts.dispatch.x"), (3, "training.views.y")]


def test_training_imports_of_forecasts_are_only_the_price_selectors():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _sources("training")
        for line, name in _imports_of(path)
        if _within(name, "forecasts") and not _within(name, TRAINING_MAY_IMPORT)
    ]
    assert not offences, _report(
        offences,
        f"training may import from forecasts only {TRAINING_MAY_IMPORT}; anything else it needs comes through a "
        "setting (TRAINING_CHAMPION_FORECASTS, TRAINING_VERSION_PAGE_PROVIDERS)",
    )


def test_no_app_imports_another_apps_views_templatetags_or_apis():
    offences = []
    for path in _sources("forecasts", "training"):
        own = path.relative_to(ROOT).parts[0]
        for line, name in _imports_of(path):
            parts = name.split(".")
            if parts[0] in APPS and parts[0] != own and len(parts) > 1 and parts[1] in PRIVATE_PARTS:
                offences.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not offences, _report(
        offences,
        "an app's views, templatetags and apis are its own; shared presentation lives in goldsite.presentation",
    )


def test_training_ml_imports_nothing_from_django_the_project_or_the_rest_of_training():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _sources("training/ml")
        for line, name in _imports_of(path)
        if any(_within(name, top) for top in NOT_IN_ML) and not _within(name, "training.ml")
    ]
    assert not offences, _report(offences, "training.ml is plain Python (+ Keras, hyperopt, MLflow)")


def _formatters() -> set[str]:
    tree = ast.parse(FORMATTING.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


def _functions_outside_classes(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level and nested functions (a method is the class's business: `TrainingRun.duration` is a timedelta)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield child
            stack.append(child)


def _returns_text(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Annotated `-> str`, or not annotated at all (a computation such as `_pct(old, new) -> float` is no formatter)."""
    return function.returns is None or ast.unparse(function.returns) == "str"


@pytest.mark.parametrize("folder", ["forecasts", "training"])
def test_only_goldsite_presentation_defines_the_formatting(folder):
    formatters = _formatters()
    assert {"money", "pct", "ratio", "p_text", "metric"} <= formatters, "formatting.py lost its formatters"
    offences = []
    for path in _sources(folder):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in _functions_outside_classes(tree):
            if function.name.lstrip("_") in formatters and _returns_text(function):
                offences.append(f"{path.relative_to(ROOT)}:{function.lineno}: def {function.name}")
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value in ("—", "−"):
                names = ", ".join(ast.unparse(target) for target in node.targets)
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno}: {names} = {node.value.value!r}")
    assert not offences, _report(
        offences,
        "money, percent, ratio, p-value and metric formatting (and its em dash and minus sign) are defined once, "
        "in goldsite/presentation/formatting.py: import them from there",
    )
