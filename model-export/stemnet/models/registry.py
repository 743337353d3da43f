"""Architectures by name, so configs choose one with `model.architecture`.

A model class takes (ModelConfig, Schema, vocab sizes) and declares its embedding tables
(which fields each covers) through MultiTaskModel.table_specs.
"""
from __future__ import annotations

import importlib
from typing import Callable

from stemnet.config import ConfigError, ModelConfig
from stemnet.raw_data.schema import Schema
from stemnet.models.base import MultiTaskModel

_ARCHITECTURES: dict[str, type[MultiTaskModel]] = {}
# Modules that register architectures when imported.
_MODEL_MODULES = (
    "stemnet.models.single_task",
    "stemnet.models.shared_bottom",
    "stemnet.models.mmoe",
    "stemnet.models.ple",
    "stemnet.models.stem_net",
    "stemnet.models.funnel",
)


def register(name: str) -> Callable[[type[MultiTaskModel]], type[MultiTaskModel]]:
    def add(cls: type[MultiTaskModel]) -> type[MultiTaskModel]:
        _ARCHITECTURES[name] = cls
        return cls

    return add


def architecture_names() -> list[str]:
    _import_models()
    return list(_ARCHITECTURES)


def _import_models() -> None:
    for module in _MODEL_MODULES:
        importlib.import_module(module)


def build_model(config: ModelConfig, schema: Schema, vocab_sizes: dict[str, int]) -> MultiTaskModel:
    _import_models()
    if config.architecture not in _ARCHITECTURES:
        raise ConfigError(
            f"model.architecture: unknown architecture {config.architecture!r}; known: {sorted(_ARCHITECTURES)}"
        )
    return _ARCHITECTURES[config.architecture](config, schema, vocab_sizes)
