import numpy as np
import pandas as pd
import torch

from stemnet.data.dataset import oov_dropout
from stemnet.data.splits import read_split
from stemnet.data.vocab import OOV_INDEX


def test_oov_dropout_replaces_about_the_configured_share_with_the_oov_index():
    torch.manual_seed(0)
    ids = torch.randint(1, 50, (4000, 8))
    dropped = oov_dropout(ids, 0.1)
    replaced = dropped != ids
    assert (dropped[replaced] == OOV_INDEX).all()
    assert 0.09 < replaced.float().mean().item() < 0.11
    assert torch.equal(oov_dropout(ids, 0.0), ids)


def test_an_all_unseen_request_scores_near_the_base_rates(trained, tiny_data):
    # Every field of the tiny data clears min_count for most values, so without OOV dropout the
    # OOV rows keep their random init and an unseen candidate scores far from any base rate.
    schema = trained.schema
    unseen = pd.DataFrame({name: [f"never-seen-{name}"] for name in schema.field_names})
    ids = np.stack([trained.vocabs[name].encode(unseen[name]) for name in schema.field_names], axis=1)
    assert (ids == OOV_INDEX).all()
    with torch.no_grad():
        scores = trained.model.eval()(torch.from_numpy(ids))[0].numpy()
    rates = read_split(tiny_data, "train", schema)[list(schema.tasks)].mean().to_numpy()
    ratio = scores / rates
    assert ((ratio > 1 / 3) & (ratio < 3)).all(), dict(zip(schema.tasks, zip(scores, rates)))
