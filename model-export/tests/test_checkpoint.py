import dataclasses

import pytest
import torch

from stemnet.config import ConfigError
from stemnet.train import train


def _config(tiny_config, epochs, **train_changes):
    return dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, epochs=epochs, patience=5, **train_changes))


def test_resuming_from_a_checkpoint_ends_with_the_same_weights(tiny_config, tiny_data, tmp_path):
    straight = train(_config(tiny_config, 2), tiny_data)
    train(_config(tiny_config, 1), tiny_data, checkpoint_dir=tmp_path)
    resumed = train(_config(tiny_config, 2), tiny_data, checkpoint_dir=tmp_path, resume=True)
    assert resumed.epochs_trained == 2
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_resume_refuses_a_checkpoint_of_another_architecture(tiny_config, tiny_data, tmp_path):
    train(_config(tiny_config, 1), tiny_data, checkpoint_dir=tmp_path)
    other = dataclasses.replace(_config(tiny_config, 2), model=dataclasses.replace(tiny_config.model, architecture="mmoe"))
    with pytest.raises(ConfigError, match="checkpoint.pt: the checkpoint is for"):
        train(other, tiny_data, checkpoint_dir=tmp_path, resume=True)


def test_an_unknown_l2_scope_is_named(tiny_config, tiny_data):
    with pytest.raises(ConfigError, match="embedding_l2_scope: expected one of"):
        train(_config(tiny_config, 1, embedding_l2_scope="rows"), tiny_data)
