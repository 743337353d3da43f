"""Typed, strictly validated run configuration loaded from YAML.

One file holds every section so that `generate` and `train` can share it. Unknown keys,
wrong types and missing sections are rejected with the file and the key path in the
message: a typo in a config must never silently fall back to a default.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml


class ConfigError(ValueError):
    """A config file that cannot be used as written."""


# Every check of a setting that needs nothing but the setting lives here, in its section's __post_init__, so that a
# config is refused when it is loaded (or built in code), before any data is read. What depends on the data (fields
# named in model.task_specific_fields) is checked where the data meets the model (models/task_views.py).
DEVICES = ("cpu", "cuda", "auto")
TRAINING_PRECISIONS = ("fp32", "bf16")
L2_SCOPES = ("touched_rows", "whole_table")
EXPORT_PRECISIONS = ("fp32", "int8")
MAX_PARITY_TOLERANCE = 1e-3


def _one_of(section: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{section}.{key}: expected one of {list(allowed)}, got {value!r}")


def _at_least(section: str, settings: Any, minimums: dict[str, float]) -> None:
    for key, minimum in minimums.items():
        value = getattr(settings, key)
        if value < minimum:
            raise ConfigError(f"{section}.{key}: expected at least {minimum}, got {value}")


@dataclass(frozen=True)
class DataConfig:
    seed: int = 7
    num_users: int = 5000
    num_ads: int = 1000
    num_rows: int = 200_000
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    latent_dim: int = 8
    # Share of users whose follow preference is the negation of their pay preference.
    conflict_user_fraction: float = 0.3
    # Correlation of a conflicting user's follow vector with their pay vector. -1 (exact
    # negation) costs a shared embedding one bit; above -1 the two preferences need separate
    # room in the embedding, the paper's premise (docs/history/benchmarks-2026-11.md, setting v3).
    conflict_correlation: float = -1.0
    # Popularity of the k-th most popular user/ad is proportional to (k + offset) ** -exponent.
    popularity_exponent: float = 0.8
    popularity_offset: int = 50
    positive_rates: dict[str, float] = field(
        default_factory=lambda: {"follow": 0.10, "activation": 0.02, "pay": 0.003}
    )
    # Day-sliced data (incremental training, model-export/docs/fresh-embeddings.md): 0 = no days. With N >= 1,
    # every row gets a `day` column 1..N (rows spread uniformly over the days) and `generate --days` writes a
    # range of days; a share of the ads and users launch on a later day (uniform over 2..N) and have no
    # impressions before it, so a model trained on the first days has never seen them.
    days: int = 0
    late_ad_fraction: float = 0.0
    late_user_fraction: float = 0.0


@dataclass(frozen=True)
class ModelConfig:
    architecture: str = "stem_net"
    embedding_dim: int = 16
    num_shared_experts: int = 1
    num_task_experts: int = 1
    expert_hidden: list[int] = field(default_factory=lambda: [512, 512, 512])
    gate_hidden: list[int] = field(default_factory=lambda: [128, 64])
    tower_hidden: list[int] = field(default_factory=lambda: [128, 64])
    # Fields that get a task-specific embedding table; None means every field.
    task_specific_fields: Optional[list[str]] = None
    # AITM's behavioural expectation calibrator weight (alpha; 0.6 in the AITM paper).
    aitm_calibrator_weight: float = 0.6


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    epochs: int = 10
    batch_size: int = 4096
    eval_batch_size: int = 65536
    learning_rate: float = 1.0e-3
    embedding_l2: float = 1.0e-6
    # "touched_rows": L2 on the distinct rows a batch reads (only what the batch updates);
    # "whole_table": the reference code's penalty on every row at every step.
    embedding_l2_scope: str = "touched_rows"
    # L2 for the task-specific tables ("task:<name>": Single-Task, ME-MMoE, ME-PLE, STEM-Net)
    # in place of embedding_l2; None means embedding_l2. Those rows see only one task's labels,
    # the sparse ones a handful per id, and memorise where a shared table does not.
    task_table_l2: Optional[float] = None
    min_count: int = 10
    # Probability that a training row's field value is replaced by the OOV index, so the OOV
    # rows learn an average-value embedding even when every value clears min_count.
    oov_dropout: float = 0.02
    patience: int = 2
    # cpu, cuda (fails when there is no CUDA device) or auto (cuda when there is one).
    device: str = "cpu"
    # DataLoader worker processes preparing batches beside the training loop; 0 = in the loop.
    # On an idle 2-core machine the model step keeps both cores busy and a worker only competes
    # with it (5-8% slower, docs/history/benchmarks-2026-11.md); on a shared, oversubscribed machine 1 was faster.
    # The batches, and so the weights, are the same for any number.
    num_workers: int = 0
    # Rows read from a Parquet split at a time while counting vocabularies and encoding.
    chunk_rows: int = 200_000
    # Rows shuffled together each epoch; a buffer at least as large as the train split is a full shuffle.
    shuffle_buffer_rows: int = 1_000_000
    # fp32, or bf16: forward and backward matrix products in bfloat16 (torch.autocast) over float32 weights, on CPUs
    # with AVX512-BF16/AMX and on GPUs; evaluation and export stay float32 (docs/training-speed.md).
    precision: str = "fp32"
    # torch.compile the training step's loss (forward; its backward follows): about a minute of compiling at the start
    # of a run for a faster step at the paper's sizes (docs/training-speed.md). Off for small runs.
    compile: bool = False
    # Off a terminal, a progress line this often (on a terminal, a progress bar).
    log_every_seconds: float = 30.0
    # Under torchrun: how long a rank waits in a collective (gradients, rank 0's validation verdict) for the others
    # before the run fails. Rank 0 validates while the others wait, so it must cover one validation pass.
    collective_timeout_seconds: float = 1800.0

    def __post_init__(self) -> None:
        _one_of("train", "device", self.device, DEVICES)
        _one_of("train", "precision", self.precision, TRAINING_PRECISIONS)
        _one_of("train", "embedding_l2_scope", self.embedding_l2_scope, L2_SCOPES)
        _at_least("train", self, {"epochs": 1, "batch_size": 1, "eval_batch_size": 1, "num_workers": 0,
                                  "chunk_rows": 1, "shuffle_buffer_rows": 1, "min_count": 1,
                                  "log_every_seconds": 0, "collective_timeout_seconds": 1})


@dataclass(frozen=True)
class ExportConfig:
    model_name: str = "stem-net"
    opset: int = 18
    parity_requests: int = 200
    max_candidates: int = 20
    # "fp32" ships the exported graph; "int8" ships its dynamic int8 quantization (docs/bundle-format.md), measured
    # on the test split against FP32 and refused when a task's AUC drops by more than max_auc_drop.
    quantization: str = "fp32"
    max_auc_drop: float = 0.002
    # How far the service's scores may be from the int8 fixtures (scored by ONNX Runtime in Python, same graph).
    int8_parity_tolerance: float = 1.0e-4

    def __post_init__(self) -> None:
        _one_of("export", "quantization", self.quantization, EXPORT_PRECISIONS)
        if not 0 <= self.max_auc_drop < 1:
            raise ConfigError(f"export.max_auc_drop: expected a number in [0, 1), got {self.max_auc_drop}")
        if not 0 < self.int8_parity_tolerance <= MAX_PARITY_TOLERANCE:
            raise ConfigError(f"export.int8_parity_tolerance: expected a number in (0, {MAX_PARITY_TOLERANCE}], "
                              f"got {self.int8_parity_tolerance}")


@dataclass(frozen=True)
class Config:
    model: ModelConfig
    train: TrainConfig
    # The synthetic generator's settings; unused when training on prepared real data.
    data: DataConfig = field(default_factory=DataConfig)
    export: ExportConfig = field(default_factory=ExportConfig)


REQUIRED_SECTIONS = ("model", "train")


def load_config(path: str | Path, **overrides: Any) -> Config:
    """Reads and validates `path`; `overrides` are `section__key=value` pairs from the CLI."""
    path = Path(path)
    raw = read_yaml_mapping(path, f"a mapping with sections {list(REQUIRED_SECTIONS)}")
    for key, value in overrides.items():
        if value is not None:
            section, name = key.split("__")
            raw.setdefault(section, {})[name] = value
    missing = [name for name in REQUIRED_SECTIONS if name not in raw]
    if missing:
        raise ConfigError(f"{path}: missing section(s) {missing}")
    return build_checked(Config, raw, f"{path}")


def read_yaml_mapping(path: Path, expected: str) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot read config: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected {expected}")
    return raw


def build_checked(cls: type, raw: Any, where: str) -> Any:
    """`raw` as an instance of dataclass `cls`; unknown keys and wrong types name `where`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(known)}")
    values = {}
    for name, value in raw.items():
        hint = hints[name]
        key_where = f"{where}: {name}" if cls is Config else f"{where}.{name}"
        if dataclasses.is_dataclass(hint):
            values[name] = build_checked(hint, value, key_where)
        else:
            values[name] = _checked(value, hint, key_where)
    return cls(**values)


def _checked(value: Any, hint: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _checked(value, inner, where)
    if dataclasses.is_dataclass(hint):
        return build_checked(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise _type_error(where, "a list", value)
        return [_checked(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _type_error(where, "a mapping", value)
        return {_checked(k, args[0], where): _checked(v, args[1], f"{where}.{k}") for k, v in value.items()}
    # bool is an int subclass in Python; `epochs: true` is still a mistake.
    if isinstance(value, bool) and hint is not bool:
        raise _type_error(where, hint.__name__, value)
    if hint is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, hint):
        raise _type_error(where, hint.__name__, value)
    return value


def _type_error(where: str, expected: str, value: Any) -> ConfigError:
    hint = ""
    if expected == "float" and isinstance(value, str):
        hint = " (YAML reads 1e-6 as a string; write 1.0e-6)"
    return ConfigError(f"{where}: expected {expected}, got {type(value).__name__} {value!r}{hint}")
