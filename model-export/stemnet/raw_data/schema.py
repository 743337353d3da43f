"""Which categorical fields and tasks a data set has; stored next to the data as schema.yaml."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

SCHEMA_FILE = "schema.yaml"
# user: the request's user (userFeatures); item: each candidate (features); context: the request itself, neither
# user nor item (tab, page, hour; contextFeatures), one value for every candidate.
SIDES = ("user", "item", "context")
# The value a missing feature takes when a data set treats missing as a category of its own
# (dataset missing_values: category); the bundle names it (manifest `missingValue`) for the service.
MISSING_VALUE = "<missing>"


class DataError(ValueError):
    """A data directory or file that does not match what the trainer needs."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    side: str


@dataclass(frozen=True)
class Schema:
    fields: tuple[FieldSpec, ...]
    tasks: tuple[str, ...]
    user_id_field: str
    item_id_field: str
    missing_values: str = "oov"  # or "category": missing is MISSING_VALUE, a value of its own

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @staticmethod
    def label_column(task: str) -> str:
        return task

    @staticmethod
    def probability_column(task: str) -> str:
        """The generator's true probability of the label, for the Bayes-optimal AUC."""
        return f"p_{task}"

    def save(self, data_dir: Path) -> None:
        raw = {
            "fields": [asdict(f) for f in self.fields],
            "tasks": list(self.tasks),
            "user_id_field": self.user_id_field,
            "item_id_field": self.item_id_field,
            "missing_values": self.missing_values,
        }
        (data_dir / SCHEMA_FILE).write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")

    @classmethod
    def load(cls, data_dir: Path) -> "Schema":
        path = data_dir / SCHEMA_FILE
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            schema = cls(
                fields=tuple(FieldSpec(name=str(f["name"]), side=str(f["side"])) for f in raw["fields"]),
                tasks=tuple(str(t) for t in raw["tasks"]),
                user_id_field=str(raw["user_id_field"]),
                item_id_field=str(raw["item_id_field"]),
                missing_values=str(raw.get("missing_values", "oov")),
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
            raise DataError(f"{path}: cannot read schema: {error!r}") from error
        schema.validate(path)
        return schema

    def validate(self, where: Path) -> None:
        names = self.field_names
        if not names or not self.tasks:
            raise DataError(f"{where}: a schema needs at least one field and one task")
        if len(set(names)) != len(names):
            raise DataError(f"{where}: duplicate field names in {names}")
        for spec in self.fields:
            if spec.side not in SIDES:
                raise DataError(f"{where}: field {spec.name!r} has side {spec.side!r}, expected one of {SIDES}")
        by_name = {f.name: f.side for f in self.fields}
        for key, side in ((self.user_id_field, "user"), (self.item_id_field, "item")):
            if by_name.get(key) != side:
                raise DataError(f"{where}: id field {key!r} must be a {side} field")
