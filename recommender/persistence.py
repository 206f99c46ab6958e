"""Fitted models on disk: their id, their folder beside the archive, saving and loading.

A model's id is its method and a digest of its settings and corpus, so refitting the
same archive with the same settings gives the same id. The archive's ``models`` table
records each model's file (written by the caller through :class:`warehouse.Writer`);
:func:`model_file` finds it through :class:`warehouse.Reader`.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib

from warehouse import Reader, WarehouseError, opened

__all__ = ["load_model", "model_file", "model_id_for", "models_dir_for", "read_model", "save_model"]


def models_dir_for(db: str | Path) -> Path:
    """Where the fitted models of an archive are saved: beside it."""
    db = Path(db)
    return db.with_name(db.stem + ".models")


def model_id_for(method: str, params: Mapping[str, Any], urls: Sequence[str]) -> str:
    """``METHOD-DIGEST``: the same settings on the same corpus give the same id."""
    digest = hashlib.sha256(
        json.dumps([params, list(urls)], sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    return f"{method}-{digest}"


def save_model(model: Any, model_id: str, folder: str | Path) -> Path:
    """Write a fitted model to ``folder/MODEL_ID.joblib``; return the file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.joblib"
    joblib.dump(model, path)
    return path


def model_file(reader: Reader, db: str | Path, model_id: str | None = None) -> tuple[str, Path]:
    """The id and file of the newest fitted model (or the one named), or a clear error."""
    model_id = model_id or reader.latest_model_id()
    stored_path = reader.model_path(model_id) if model_id else None
    if not model_id or stored_path is None:
        raise WarehouseError(f"{db} has no fitted model{f' {model_id}' if model_id else ''}: "
                             "run `relnews fit` first")  # fmt: skip
    stored = Path(stored_path)
    # Beside the archive first: an archive folder moved, or used from another working
    # folder, still finds its models.
    beside = models_dir_for(db) / stored.name
    path = beside if beside.exists() else stored
    if not path.exists():
        raise WarehouseError(
            f"model file {stored.name} is missing from {models_dir_for(db)}: "
            "run `relnews fit` again"
        )
    return model_id, path


def read_model(path: Path) -> Any:
    """A model file loaded, or a clear error when it cannot be (written by a relnews
    whose classes lived elsewhere, or damaged)."""
    try:
        return joblib.load(path)
    except (ModuleNotFoundError, AttributeError, pickle.UnpicklingError, EOFError) as error:
        raise WarehouseError(
            f"model file {path.name} cannot be read by this relnews ({error}): "
            "run `relnews fit` again"
        ) from error


def load_model(db: str | Path, model_id: str | None = None) -> tuple[str, Any]:
    """The newest fitted model of an archive (or the one named), loaded from its file."""
    with opened(db, read_only=True) as con:
        model_id, path = model_file(Reader(con), db, model_id)
    return model_id, read_model(path)
