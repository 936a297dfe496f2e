"""Reading the package's editable YAML files (rules, routing, taxonomy, KB seed).

YAML 1.2 (ruamel's safe loader): `no`/`on` stay strings; anchors, aliases and tags
are refused (core.safeyaml). Files are re-read when they change on disk, so a
supervisor's edit applies without a restart.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ruamel.yaml.error import YAMLError

from core import safeyaml

PACKAGE_DIR = Path(__file__).resolve().parent


class ConfigFileError(ValueError):
    """An editable file that cannot be used, with the file and the reason."""


@lru_cache(maxsize=32)
def _load(path: str, _mtime: float):
    try:
        return safeyaml.load_file(path)
    except safeyaml.YAMLRefused as exc:
        where = path if exc.line is None else f"{path}:{exc.line}"
        raise ConfigFileError(f"{where}: {exc.message}") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: {exc.strerror}") from exc
    except YAMLError as exc:
        raise ConfigFileError(f"{path}: {exc}") from exc


def load_yaml(path: str | os.PathLike) -> dict:
    """The parsed mapping at `path` (cached until the file's mtime changes)."""
    path = str(path)
    try:
        mtime = os.path.getmtime(path)
    except OSError as exc:
        raise ConfigFileError(f"{path}: {exc.strerror}") from exc
    data = _load(path, mtime)
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: expected a mapping at the top level")
    return data
