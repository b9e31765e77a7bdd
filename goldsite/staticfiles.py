"""Serve JavaScript that a Python dependency ships, without copying it into the repository.

The chart library is Plotly's own bundle, installed from PyPI with the `plotly` package. This finder
exposes exactly the files listed in `PACKAGED_ASSETS` under `vendor/`, so `collectstatic`, `runserver`
and WhiteNoise all see them, and nothing third-party is committed.
"""

import importlib.util
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

# static path -> (python package, path inside that package)
PACKAGED_ASSETS = {
    "vendor/plotly.min.js": ("plotly", "package_data/plotly.min.js"),
}


def package_file(package: str, relative: str) -> Path | None:
    """The file `relative` inside installed `package` (e.g. plotly's bundled plotly.min.js), None when absent."""
    spec = importlib.util.find_spec(package)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


class PackagedAssetFinder(BaseFinder):
    def check(self, **kwargs):
        return [
            Error(f"{package} does not ship {relative}; reinstall the project's dependencies.", id="goldsite.E001")
            for package, relative in PACKAGED_ASSETS.values()
            if package_file(package, relative) is None
        ]

    def find(self, path, find_all=False, **kwargs):
        if path not in PACKAGED_ASSETS:
            return [] if find_all else None
        found = package_file(*PACKAGED_ASSETS[path])
        if found is None:
            return [] if find_all else None
        return [str(found)] if find_all else str(found)

    def list(self, ignore_patterns):
        for static_path, (package, relative) in PACKAGED_ASSETS.items():
            found = package_file(package, relative)
            if found is not None:
                yield static_path, _AliasStorage(static_path, found)


class _AliasStorage(FileSystemStorage):
    """A storage that answers for one aliased file: `open(static_path)` reads the packaged file."""

    def __init__(self, static_path: str, found: Path):
        super().__init__(location=str(found.parent))
        self._static_path = static_path
        self._found = found

    def path(self, name):
        return str(self._found) if name == self._static_path else super().path(name)

    def open(self, name, mode="rb"):
        return super().open(self._found.name if name == self._static_path else name, mode)

    def get_modified_time(self, name):
        return super().get_modified_time(self._found.name if name == self._static_path else name)
