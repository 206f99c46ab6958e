"""The configuration file: the options an operator would otherwise repeat on every cron line.

``relnews.toml`` (in the working folder, or the file given with ``--config`` or
``$RELNEWS_CONFIG``) holds option values by their long names, for every command that
takes them; the command line still wins::

    db = "news.duckdb"                 # relative paths: from the file's own folder
    profile = "mysite.toml"
    url = ["https://news.example.org/"]
    contact = "ops@example.org"
    max_time = 3600
    quiet = true
    [set]                              # any Scrapy setting, as -s NAME=VALUE
    DOWNLOAD_DELAY = 2
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

#: The file looked for in the working folder when no --config is given.
CONFIG_NAME = "relnews.toml"
#: Keys whose values are paths, resolved against the configuration file's folder.
_PATH_KEYS = ("db", "profile", "output")


class ConfigError(click.ClickException):
    """A configuration file that cannot be used, with the reason."""


def find_config(explicit: Path | None, folder: Path) -> Path | None:
    """The configuration file to read: ``explicit``, else ``folder/relnews.toml`` if any."""
    if explicit is not None:
        return explicit
    candidate = folder / CONFIG_NAME
    return candidate if candidate.is_file() else None


def _option_key(param: click.Parameter) -> str | None:
    names = [opt for opt in getattr(param, "opts", []) if opt.startswith("--")]
    return max(names, key=len)[2:].replace("-", "_") if names else None


def load_config(path: Path) -> dict[str, Any]:
    """The file's values by option name, paths made absolute against its folder."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read the configuration {path}: {error}") from error
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = key.replace("-", "_")
        if key in _PATH_KEYS and isinstance(value, str):
            is_builtin_profile = key == "profile" and not value.endswith(".toml")
            if not is_builtin_profile and not Path(value).is_absolute():
                value = str((path.parent / value).resolve())
        if key == "set" and isinstance(value, Mapping):
            value = [f"{name}={setting}" for name, setting in value.items()]
        if key == "url" and isinstance(value, str):
            value = [value]
        values[key] = value
    return values


def default_map(values: Mapping[str, Any], commands: Mapping[str, click.Command]) -> dict:
    """Click's ``default_map``: each command gets the values of the options it has.

    Raises :class:`ConfigError` for a key that no command takes.
    """
    used: set[str] = set()
    defaults: dict[str, dict[str, Any]] = {}
    for name, command in commands.items():
        for param in command.params:
            key = _option_key(param)
            if key is not None and key in values and param.name is not None:
                defaults.setdefault(name, {})[param.name] = values[key]
                used.add(key)
    unknown = sorted(set(values) - used)
    if unknown:
        raise ConfigError(f"unknown configuration keys: {', '.join(unknown)}")
    return defaults
