import torch

from stemnet.encoded_data.dataset import oov_dropout
from stemnet.encoded_data.vocab import OOV_INDEX


def test_oov_dropout_replaces_about_the_configured_share_with_the_oov_index():
    torch.manual_seed(0)
    ids = torch.randint(1, 50, (4000, 8))
    dropped = oov_dropout(ids, 0.1)
    replaced = dropped != ids
    assert (dropped[replaced] == OOV_INDEX).all()
    assert 0.09 < replaced.float().mean().item() < 0.11
    assert torch.equal(oov_dropout(ids, 0.0), ids)


def test_oov_dropout_trains_every_fields_oov_row(trained):
    # Every field of the tiny data clears min_count for most values, so without OOV dropout the OOV rows would keep
    # their random init (std 1e-4) and an unseen value would score with noise. (How close an all-unseen request
    # then scores to the base rates depends on the seed after the fixture's 2 epochs: between 0.1x and 40x over
    # seeds 0-3, so it is no assertion.)
    model = trained.model
    for spec in model.table_specs:
        weight = model.embeddings.weight(spec).detach()
        for field, offset in zip(spec.fields, spec.row_offsets):
            oov_row = weight[offset + OOV_INDEX]
            assert oov_row.norm() > 10 * 1e-4 * weight.shape[1] ** 0.5, (spec.name, field)
