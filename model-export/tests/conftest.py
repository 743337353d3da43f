from pathlib import Path

import pytest

from stemnet.config import load_config
from stemnet.raw_data.synthetic import generate
from stemnet.export.bundle import write_bundle
from stemnet.train import train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="session")
def tiny_config():
    return load_config(CONFIGS / "tiny.yaml", train__epochs=2)


@pytest.fixture(scope="session")
def tiny_data(tiny_config, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data")
    generate(tiny_config.data, out)
    return out


@pytest.fixture(scope="session")
def trained(tiny_config, tiny_data):
    return train(tiny_config, tiny_data)


@pytest.fixture(scope="session")
def bundle_dir(trained, tiny_config, tmp_path_factory) -> Path:
    return write_bundle(tmp_path_factory.mktemp("bundles") / "tiny", trained, tiny_config)
