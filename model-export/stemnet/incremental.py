"""Incremental training: start from a bundle with its deltas applied, as the service holds it
(docs/bundle-format.md, "Deltas"), and grow its vocabularies with a newer slice of data.

`ServingState` is the service's view of a model: the vocabularies, the tables in the service's row layout (base
rows never move, the rows of values a delta added appended at the end of every table covering the field) and,
per table and field, the table row of every index. The trainer's own model keeps its stacked layout (one block
per field, TableSpec.stacked); `load_into` and `service_tables` translate between the two through those row maps.

The dense weights come back from the bundle's model.onnx: the exporter keeps every PyTorch parameter as an ONNX
initializer named `model.<state_dict key>`. `read_bundle` then rebuilds the PyTorch model and insists that it
reproduces the bundle's parity fixtures (and each delta's), so a weight that did not come back exactly is an
error, never a silently different model.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from stemnet.config import Config, ConfigError, ModelConfig
from stemnet.raw_data.schema import FieldSpec, Schema
from stemnet.encoded_data.vocab import Vocabulary
from stemnet.export.checksums import mismatched, sha256_file
from stemnet.export.parity import encode_requests
from stemnet.models.base import MultiTaskModel
from stemnet.models.registry import build_model

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DELTA_FILE = "delta.json"
MODEL_FILE = "model.onnx"
# The exporter wraps the model in a module whose attribute is `model` (export/onnx_graph.py, _DenseGraph).
INITIALIZER_PREFIX = "model."
EMBEDDINGS_PREFIX = "embeddings."
PARITY_TOLERANCE = 1e-5


class DeltaError(ConfigError):
    """A delta that cannot be applied to the state it was given (reason as the service names it)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{message} [{reason}]")
        self.reason = reason


@dataclass
class ServingState:
    root: Path  # the base bundle
    manifest: dict
    onnx_sha256: str
    schema: Schema
    model_config: ModelConfig
    vocabs: dict[str, Vocabulary]  # after the applied deltas
    tables: dict[str, np.ndarray]  # table name -> [rows, dim] float32, service layout
    row_maps: dict[str, dict[str, np.ndarray]]  # table -> field -> service row of each index (int64)
    dense: dict[str, torch.Tensor]  # state_dict key -> tensor, every entry outside the embeddings
    sequence: int = 0  # deltas applied
    deltas: list[Path] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def version(self) -> str:
        return self.manifest["model"]["version"]

    def vocab_sizes(self) -> dict[str, int]:
        return {name: vocab.size for name, vocab in self.vocabs.items()}

    def copy(self) -> "ServingState":
        return dataclasses.replace(
            self,
            vocabs={name: Vocabulary(list(v.values)) for name, v in self.vocabs.items()},
            tables={name: table.copy() for name, table in self.tables.items()},
            row_maps={t: dict(maps) for t, maps in self.row_maps.items()},
            deltas=list(self.deltas),
        )

    def table_rows(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Per table [N, F_table, dim]: the rows the service looks up for per-field indices `ids` [N, F]."""
        order = self.schema.field_names
        inputs = {}
        for table in self.manifest["tables"]:
            fields = [f["name"] for f in table["fields"]]
            rows = np.stack([self.row_maps[table["name"]][f][ids[:, order.index(f)]] for f in fields], axis=1)
            inputs[table["name"]] = self.tables[table["name"]][rows]
        return inputs

    def onnx_session(self) -> ort.InferenceSession:
        return ort.InferenceSession(str(self.root / self.manifest["onnx"]["file"]), providers=["CPUExecutionProvider"])

    def score_onnx(self, ids: np.ndarray, session: Optional[ort.InferenceSession] = None, batch: int = 65536) -> np.ndarray:
        """[N, T] probabilities as the service computes them: its row rule, the base graph in ONNX Runtime."""
        session = session or self.onnx_session()
        names = {spec["table"]: spec["name"] for spec in self.manifest["onnx"]["inputs"]}
        output = self.manifest["onnx"]["outputs"][0]["name"]
        parts = []
        for start in range(0, len(ids), batch):
            feeds = {names[t]: rows for t, rows in self.table_rows(ids[start : start + batch]).items()}
            parts.append(session.run([output], feeds)[0])
        return np.concatenate(parts) if parts else np.zeros((0, len(self.manifest["tasks"])), dtype=np.float32)

    def build_model(self, vocab_sizes: Optional[dict[str, int]] = None) -> MultiTaskModel:
        """The PyTorch model of this state (or with larger `vocab_sizes`: the extra rows keep their fresh
        initialisation), in eval mode."""
        model = build_model(self.model_config, self.schema, vocab_sizes or self.vocab_sizes())
        check_layout(model, self.manifest, self.root)
        self.load_into(model)
        return model.eval()

    def load_into(self, model: MultiTaskModel) -> None:
        """Copies the dense weights and every known row into `model` (trainer layout); rows of indices this
        state does not have (values added since) are left as initialised."""
        state = model.state_dict()
        missing = sorted(k for k in state if not k.startswith(EMBEDDINGS_PREFIX) and k not in self.dense)
        if missing:
            raise ConfigError(
                f"{self.root / MODEL_FILE}: no initializer named {[INITIALIZER_PREFIX + k for k in missing[:3]]}"
                f"{f' (and {len(missing) - 3} more)' if len(missing) > 3 else ''}: the dense weights cannot be recovered"
            )
        with torch.no_grad():
            for key, tensor in state.items():
                if key.startswith(EMBEDDINGS_PREFIX):
                    continue
                value = self.dense[key]
                if tuple(value.shape) != tuple(tensor.shape):
                    raise ConfigError(
                        f"{self.root / MODEL_FILE}: initializer {INITIALIZER_PREFIX}{key} has shape {tuple(value.shape)}, "
                        f"the model built from the config needs {tuple(tensor.shape)}"
                    )
                tensor.copy_(value)
            for spec in model.table_specs:
                weight = model.embeddings.weight(spec)
                for field, offset in zip(spec.fields, spec.row_offsets):
                    rows = self.row_maps[spec.name][field]
                    weight[offset : offset + len(rows)] = torch.from_numpy(self.tables[spec.name][rows]).to(weight.device)

    def check_fixtures(self, path: Path, model: MultiTaskModel) -> float:
        """Scores the parity fixtures at `path` with `model` (PyTorch, this state's vocabularies) and fails
        unless every score is within the tolerance; returns the largest difference."""
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        requests = [line["request"] for line in lines]
        ids = torch.from_numpy(encode_requests(requests, self.schema, self.vocabs))
        with torch.no_grad():
            probs = model.eval()(ids.to(next(model.parameters()).device)).cpu().numpy()
        worst, start = 0.0, 0
        tasks = list(self.schema.tasks)
        for line in lines:
            block = probs[start : start + len(line["request"]["candidates"])]
            start += len(block)
            for row, expected in zip(block, line["expected"], strict=True):
                worst = max([worst] + [abs(float(row[tasks.index(t)]) - value) for t, value in expected.items()])
        if worst > PARITY_TOLERANCE:
            raise ConfigError(
                f"{path}: the model rebuilt from {self.root}{' + ' + str(len(self.deltas)) + ' delta(s)' if self.deltas else ''} "
                f"misses these fixtures by {worst:.3g} (limit {PARITY_TOLERANCE}): its weights did not come back exactly"
            )
        return worst


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: cannot read the {what}: {error}") from error


def read_serving_state(bundle: Path, deltas: list[Path] = ()) -> ServingState:
    """The bundle with `deltas` applied in order, each checked as the service checks it, and the rebuilt
    PyTorch model checked against the bundle's fixtures and each delta's."""
    state = read_bundle(Path(bundle))
    for delta in deltas:
        apply_delta(state, Path(delta))
        state.check_fixtures(Path(delta) / _read_json(Path(delta) / DELTA_FILE, "delta")["parityFixtures"], state.build_model())
    return state


def read_bundle(root: Path) -> ServingState:
    manifest = _read_json(root / MANIFEST, "bundle manifest")
    if manifest.get("formatVersion") != FORMAT_VERSION:
        raise ConfigError(f"{root}: formatVersion {manifest.get('formatVersion')!r}, expected {FORMAT_VERSION}")
    precision = manifest["onnx"].get("precision", "fp32")
    if precision != "fp32":
        raise ConfigError(f"{root}: the bundle's graph is {precision}; incremental training starts from an FP32 bundle")
    differ = mismatched(root, MANIFEST, manifest.get("files", {}))
    if differ:
        raise ConfigError(f"{root}: files do not match the manifest's checksums: {differ[:5]}")
    schema = Schema(
        fields=tuple(FieldSpec(f["name"], f["side"]) for f in manifest["fields"]),
        tasks=tuple(manifest["tasks"]),
        user_id_field=manifest["userIdField"],
        item_id_field=manifest["itemIdField"],
    )
    vocabs = {}
    for field in manifest["fields"]:
        vocabs[field["name"]] = Vocabulary.read(root / field["vocabulary"])
        if vocabs[field["name"]].size != field["vocabSize"]:
            raise ConfigError(f"{root}: {field['vocabulary']} has {vocabs[field['name']].size - 1} lines, vocabSize says {field['vocabSize'] - 1}")
    tables, row_maps = {}, {}
    sizes = {name: v.size for name, v in vocabs.items()}
    for table in manifest["tables"]:
        values = np.fromfile(root / table["file"], dtype="<f4")
        if values.size != table["rows"] * table["dim"]:
            raise ConfigError(f"{root}: {table['file']} holds {values.size} floats, expected {table['rows']} x {table['dim']}")
        tables[table["name"]] = values.reshape(table["rows"], table["dim"]).astype(np.float32)
        row_maps[table["name"]] = {
            f["name"]: f["rowOffset"] + np.arange(sizes[f["name"]], dtype=np.int64) for f in table["fields"]
        }
    graph = onnx.load(str(root / manifest["onnx"]["file"]))
    dense = {
        tensor.name[len(INITIALIZER_PREFIX) :]: torch.from_numpy(numpy_helper.to_array(tensor).copy())
        for tensor in graph.graph.initializer
        if tensor.name.startswith(INITIALIZER_PREFIX)
    }
    state = ServingState(
        root=root,
        manifest=manifest,
        onnx_sha256=sha256_file(root / manifest["onnx"]["file"]),
        schema=schema,
        model_config=_model_config(manifest, root),
        vocabs=vocabs,
        tables=tables,
        row_maps=row_maps,
        dense=dense,
    )
    state.check_fixtures(root / manifest["parityFixtures"], state.build_model())
    return state


def _model_config(manifest: dict, root: Path) -> ModelConfig:
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    values = {k: v for k, v in manifest["model"].get("hyperparameters", {}).items() if k in known}
    return ModelConfig(architecture=manifest["model"]["architecture"], **values)


def check_layout(model: MultiTaskModel, manifest: dict, root: Path) -> None:
    """The tables `model` declares are the bundle's (names, fields, field order)."""
    ours = [(spec.name, list(spec.fields)) for spec in model.table_specs]
    theirs = [(t["name"], [f["name"] for f in t["fields"]]) for t in manifest["tables"]]
    if ours != theirs:
        raise ConfigError(f"{root}: the bundle's tables {theirs} are not the ones the model builds: {ours}")


def check_compatible(state: ServingState, config: Config, schema: Schema, data_dir: Path) -> None:
    """Fails unless `config` and the data's schema describe the bundle's model: same architecture and
    hyperparameters, same fields (names, sides, order), tasks and id fields."""
    ours = dataclasses.asdict(config.model)
    theirs = dataclasses.asdict(state.model_config)
    differ = [f"{key}: config {ours[key]!r}, bundle {theirs[key]!r}" for key in ours if ours[key] != theirs[key]]
    if differ:
        raise ConfigError(f"the config's model does not match the bundle {state.root}: " + "; ".join(differ))
    if config.model.embedding_dim != state.manifest["embeddingDim"]:
        raise ConfigError(f"{state.root}: embeddingDim {state.manifest['embeddingDim']}, config {config.model.embedding_dim}")
    for what, mine, bundle in (
        ("fields", [(f.name, f.side) for f in schema.fields], [(f.name, f.side) for f in state.schema.fields]),
        ("tasks", list(schema.tasks), list(state.schema.tasks)),
        ("id fields", [schema.user_id_field, schema.item_id_field], [state.schema.user_id_field, state.schema.item_id_field]),
    ):
        if mine != bundle:
            raise ConfigError(f"{data_dir}: the data's {what} {mine} are not the bundle's {bundle} ({state.root})")


def grow_vocabularies(known: dict[str, Vocabulary], counted: dict[str, Vocabulary]) -> dict[str, Vocabulary]:
    """Each known vocabulary with the counted values it lacks appended: known values keep their indices,
    new ones take the next indices in the counted order (most frequent first)."""
    grown = {}
    for name, vocab in known.items():
        have = set(vocab.values)
        grown[name] = Vocabulary(list(vocab.values) + [v for v in counted[name].values if v not in have])
    return grown


def growth(before: dict[str, Vocabulary], after: dict[str, Vocabulary]) -> dict[str, int]:
    """Values added per field (every field, 0 where none)."""
    return {name: after[name].size - before[name].size for name in before}


# ---------------------------------------------------------------------------------------------------------------
# Deltas: reading and applying, with the service's checks (docs/bundle-format.md, "How the service applies a delta")


def read_delta_manifest(root: Path) -> dict:
    path = root / DELTA_FILE
    if not path.is_file():
        raise DeltaError("unreadable", f"{root}: no {DELTA_FILE}; not a delta")
    try:
        delta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DeltaError("unreadable", f"{path}: cannot read: {error}") from error
    if delta.get("formatVersion") != FORMAT_VERSION:
        raise DeltaError("unreadable", f"{path}: formatVersion {delta.get('formatVersion')!r}, expected {FORMAT_VERSION}")
    return delta


def apply_delta(state: ServingState, root: Path) -> None:
    """Checks the delta at `root` against `state` and applies it; on any failure `state` is unchanged."""
    delta = read_delta_manifest(root)
    files = delta.get("files", {})
    missing = sorted(name for name in files if not (root / name).is_file())
    if missing:
        raise DeltaError("unreadable", f"{root}: listed file(s) missing: {missing[:5]}")
    differ = mismatched(root, DELTA_FILE, files)
    if differ:
        raise DeltaError("checksum", f"{root}: files do not match delta.json's checksums: {differ[:5]}")
    base = delta.get("base", {})
    ours = {"name": state.name, "version": state.version, "onnxSha256": state.onnx_sha256}
    if base != ours:
        raise DeltaError(
            "wrong_base",
            f"{root}: a delta of {base.get('name')} {base.get('version')} (graph {str(base.get('onnxSha256'))[:12]}...), "
            f"not of {state.root}: {state.name} {state.version} (graph {state.onnx_sha256[:12]}...)",
        )
    if delta.get("sequence") != state.sequence + 1:
        applied = ", ".join(str(p) for p in state.deltas) or "none"
        raise DeltaError(
            "out_of_order",
            f"{root}: sequence {delta.get('sequence')}, but {state.sequence} delta(s) are applied ({applied}); "
            f"give the deltas of {state.root} in order, 1, 2, 3, ...",
        )
    try:
        vocabs, added = _grown_by(state, delta, root)
        tables, row_maps = {}, {}
        by_name = {t.get("name"): t for t in delta.get("tables", [])}
        if [t.get("name") for t in delta.get("tables", [])] != [t["name"] for t in state.manifest["tables"]]:
            raise _inconsistent(root, f"tables {list(by_name)}, the base has {[t['name'] for t in state.manifest['tables']]}")
        for table in state.manifest["tables"]:
            entry = by_name[table["name"]]
            tables[table["name"]], row_maps[table["name"]] = _applied_table(state, table, entry, added, root)
    except (KeyError, TypeError, ValueError, OSError) as error:
        if isinstance(error, DeltaError):
            raise
        raise _inconsistent(root, f"malformed delta.json or files: {error!r}") from error
    state.vocabs, state.tables, state.row_maps = vocabs, tables, row_maps
    state.sequence += 1
    state.deltas.append(root)


def _inconsistent(root: Path, message: str) -> DeltaError:
    return DeltaError("inconsistent", f"{root}: {message}")


def _grown_by(state: ServingState, delta: dict, root: Path) -> tuple[dict[str, Vocabulary], dict[str, int]]:
    vocabs = dict(state.vocabs)
    added: dict[str, int] = {}
    for field in delta.get("fields", []):
        name = field.get("name")
        if name not in state.vocabs or name in added:
            raise _inconsistent(root, f"field {name!r} is not a field of the model, or listed twice")
        before = state.vocabs[name]
        if field.get("vocabSizeBefore") != before.size:
            raise _inconsistent(root, f"{name}: vocabSizeBefore {field.get('vocabSizeBefore')}, the state has {before.size}")
        values = Vocabulary.read(root / field["vocabulary"]).values
        if field.get("vocabSizeAfter") != before.size + len(values) or not values:
            raise _inconsistent(root, f"{name}: vocabSizeAfter {field.get('vocabSizeAfter')} with {len(values)} added value(s)")
        have = set(before.values)
        again = [v for v in values if v in have]
        if again or len(set(values)) != len(values):
            raise _inconsistent(root, f"{name}: added values already in the vocabulary or repeated: {again[:3]}")
        vocabs[name] = Vocabulary(list(before.values) + values)
        added[name] = len(values)
    return vocabs, added


def _applied_table(state: ServingState, table: dict, entry: dict, added: dict[str, int], root: Path):
    name, dim = table["name"], table["dim"]
    before = state.tables[name]
    rows_before = len(before)
    if entry.get("dim") != dim or entry.get("rowsBefore") != rows_before:
        raise _inconsistent(root, f"table {name}: dim {entry.get('dim')}, rowsBefore {entry.get('rowsBefore')}; the state has {dim}, {rows_before}")
    fields = [f["name"] for f in table["fields"]]
    expected_blocks, next_row, maps = [], rows_before, dict(state.row_maps[name])
    for field in fields:
        if added.get(field):
            expected_blocks.append({"field": field, "firstRow": next_row, "count": added[field]})
            maps[field] = np.concatenate([maps[field], next_row + np.arange(added[field], dtype=np.int64)])
            next_row += added[field]
    if entry.get("appended", []) != expected_blocks or entry.get("rowsAfter") != next_row:
        raise _inconsistent(root, f"table {name}: appended {entry.get('appended')} / rowsAfter {entry.get('rowsAfter')}, "
                                  f"expected {expected_blocks} / {next_row}")
    count = entry.get("count")
    rows_path, values_path = root / entry["rows"], root / entry["values"]
    if rows_path.stat().st_size != count * 8 or values_path.stat().st_size != count * dim * 4:
        raise _inconsistent(root, f"table {name}: file sizes do not match count {count}")
    rows = np.fromfile(rows_path, dtype="<i8")
    values = np.fromfile(values_path, dtype="<f4").reshape(count, dim)
    if count and (np.any(np.diff(rows) <= 0) or rows[0] < 0 or rows[-1] >= next_row):
        raise _inconsistent(root, f"table {name}: rows not strictly ascending within [0, {next_row})")
    if not np.isin(np.arange(rows_before, next_row), rows).all():
        raise _inconsistent(root, f"table {name}: not every appended row has a value")
    after = np.empty((next_row, dim), dtype=np.float32)
    after[:rows_before] = before
    after[rows] = values
    return after, maps


def service_tables(state: ServingState, model: MultiTaskModel, vocabs: dict[str, Vocabulary]):
    """The model's tables in the service's layout after a delta that grows `state` to `vocabs`: per table,
    ([rowsAfter, dim] values, the row maps after it, the appended blocks)."""
    result = {}
    for spec in model.table_specs:
        weight = model.embeddings.weight(spec).detach().cpu().numpy()
        next_row = len(state.tables[spec.name])
        maps, blocks = {}, []
        for field in spec.fields:
            known = len(state.row_maps[spec.name][field])
            count = vocabs[field].size - known
            maps[field] = np.concatenate([state.row_maps[spec.name][field], next_row + np.arange(count, dtype=np.int64)])
            if count:
                blocks.append({"field": field, "firstRow": next_row, "count": count})
                next_row += count
        table = np.empty((next_row, weight.shape[1]), dtype=np.float32)
        for field, offset in zip(spec.fields, spec.row_offsets):
            table[maps[field]] = weight[offset : offset + len(maps[field])]
        result[spec.name] = (table, maps, blocks)
    return result


def changed_dense(state: ServingState, model: MultiTaskModel) -> list[str]:
    """The dense entries of `model` that differ (bit for bit) from the graph's."""
    return [
        key for key, tensor in model.state_dict().items()
        if not key.startswith(EMBEDDINGS_PREFIX) and not torch.equal(tensor.detach().cpu(), state.dense[key])
    ]
