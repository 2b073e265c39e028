"""Reading a seed file: YAML or JSON by its extension, checked against the format model.

Every problem becomes one ``SeedError`` naming the file, the place in it and what is wrong.
"""

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kohorte.domain.errors import InvalidInput
from kohorte.seed.model import SeedFile

PARSERS = {".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}
PROBLEMS = {"extra_forbidden": "unknown field", "missing": "missing field"}


class SeedError(InvalidInput):
    """The seed file cannot be applied; nothing of it was."""

    def __init__(self, path: Path, place: str | None, problem: str) -> None:
        where = f"{path}: {place}: " if place else f"{path}: "
        super().__init__(f"invalid seed file {where}{problem}")


def read_seed_file(path: Path) -> SeedFile:
    document = _parse(path, _text(path))
    try:
        seed = SeedFile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        raise SeedError(path, place(first["loc"]) or None, _problem(first)) from None
    _check_distinct_keys(path, seed)
    return seed


def _text(path: Path) -> str:
    if path.suffix.lower() not in PARSERS:
        raise SeedError(path, None, "the name must end in .yaml, .yml or .json")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(path, None, f"cannot be read: {_reason(error)}") from None


def _reason(error: OSError | UnicodeDecodeError) -> str:
    return error.strerror or str(error) if isinstance(error, OSError) else "not UTF-8 text"


def _parse(path: Path, text: str) -> object:
    kind = PARSERS[path.suffix.lower()]
    try:
        document = yaml.safe_load(text) if kind == "YAML" else json.loads(text)
    except (yaml.YAMLError, ValueError) as error:
        problem = " ".join(str(error).split())
        raise SeedError(path, None, f"is not valid {kind}: {problem}") from None
    if document is None:
        return {}  # an empty file seeds nothing
    if not isinstance(document, dict):
        raise SeedError(path, None, f"must be a {kind} object with partners and workspaces")
    return document


def place(loc: Sequence[int | str]) -> str:
    """('workspaces', 0, 'api_keys', 1, 'key') -> 'workspaces[0].api_keys[1].key'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _problem(error: Any) -> str:
    if error["type"] in PROBLEMS:
        return str(PROBLEMS[error["type"]])
    return str(error["msg"]).removeprefix("Value error, ")


def _check_distinct_keys(path: Path, seed: SeedFile) -> None:
    seen: dict[str, str] = {}
    for where, key in _keys(seed):
        if key in seen:
            raise SeedError(path, where, f"the same key value is used at {seen[key]}")
        seen[key] = where


def _keys(seed: SeedFile) -> Iterator[tuple[str, str]]:
    for i, partner in enumerate(seed.partners):
        for j, key in enumerate(partner.api_keys):
            yield f"partners[{i}].api_keys[{j}]", key
        if partner.partner_api_key is not None:
            yield f"partners[{i}].partner_api_key", partner.partner_api_key
    for i, workspace in enumerate(seed.workspaces):
        for j, rest in enumerate(workspace.api_keys):
            yield f"workspaces[{i}].api_keys[{j}].key", rest.key
        for j, data_import in enumerate(workspace.data_import_keys):
            yield f"workspaces[{i}].data_import_keys[{j}].key", data_import.key
