"""The configuration file: the options an operator would otherwise repeat on every cron line.

``relnews.toml`` (in the working folder, or the file given with ``--config`` or
``$RELNEWS_CONFIG``) holds option values by their long names, for every command that
takes them; the command line still wins::

    db = "news.duckdb"                 # relative paths: from the file's own folder
    profile = "mysite.toml"            # (a built-in profile's name stays a name)
    url = ["https://news.example.org/"]
    contact = "ops@example.org"
    max_time = 3600
    quiet = true
    [set]                              # any Scrapy setting, as -s NAME=VALUE
    DOWNLOAD_DELAY = 2
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from relnews.exit_codes import EXIT_USAGE

#: The file looked for in the working folder when no --config is given.
CONFIG_NAME = "relnews.toml"


class ConfigError(click.ClickException):
    """A configuration file that cannot be used, with the reason: nothing is run."""

    exit_code = EXIT_USAGE


class NameOrFile(click.ParamType):
    """An option that takes a built-in name or a file (a profile: ``demo`` or
    ``mysite.toml``): in the configuration file, a value that is not one of ``names``
    is a file, read from the file's folder."""

    def __init__(self, names: Callable[[], Iterable[str]], name: str = "name") -> None:
        self.names = names
        self.name = name  # the help's metavar

    def is_file(self, value: str) -> bool:
        return value not in set(self.names())


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
    """The file's values by option name (paths as written: :func:`default_map` reads
    them from the file's folder)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read the configuration {path}: {error}") from error
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = key.replace("-", "_")
        if key == "set" and isinstance(value, Mapping):
            value = [f"{name}={setting}" for name, setting in value.items()]
        if key == "url" and isinstance(value, str):
            value = [value]
        values[key] = value
    return values


def _is_path(param: click.Parameter, value: str) -> bool:
    """Whether ``param`` takes a file or folder, as its type says (``-`` is a stream)."""
    kind = param.type
    if isinstance(kind, NameOrFile):
        return kind.is_file(value)
    return isinstance(kind, click.Path | click.File) and value != "-"


def _from_folder(param: click.Parameter, value: Any, folder: Path) -> Any:
    """``value`` with its relative paths made absolute against ``folder``, when
    ``param`` takes paths."""
    if isinstance(value, list):
        return [_from_folder(param, item, folder) for item in value]
    if isinstance(value, str) and _is_path(param, value) and not Path(value).is_absolute():
        return str((folder / value).resolve())
    return value


def default_map(
    values: Mapping[str, Any], commands: Mapping[str, click.Command], folder: Path | None = None
) -> dict:
    """Click's ``default_map``: each command gets the values of the options it has,
    relative paths read from ``folder`` (the configuration file's) for the options whose
    type is a path (``click.Path``, ``click.File``, :class:`NameOrFile`).

    Raises :class:`ConfigError` for a key that no command takes.
    """
    used: set[str] = set()
    defaults: dict[str, dict[str, Any]] = {}
    for name, command in commands.items():
        for param in command.params:
            key = _option_key(param)
            if key is not None and key in values and param.name is not None:
                value = values[key]
                if folder is not None:
                    value = _from_folder(param, value, folder)
                defaults.setdefault(name, {})[param.name] = value
                used.add(key)
    unknown = sorted(set(values) - used)
    if unknown:
        raise ConfigError(f"unknown configuration keys: {', '.join(unknown)}")
    return defaults
