import dataclasses

import numpy as np
import pytest
import torch

from stemnet.analysis.comparable import SUBSETS, equal_frequency_buckets, subset_of_samples
from stemnet.analysis.gates import GROUPS, average_gate_weights
from stemnet.config import ModelConfig
from stemnet.encoded_data.dataset import EncodedSplit
from stemnet.raw_data.synthetic import SCHEMA
from stemnet.evaluate import grouped_auc, roc_auc
from stemnet.models.registry import build_model


def test_grouped_auc_weights_each_users_auc_by_their_impressions():
    # User 1: perfect ranking on 4 rows (AUC 1); user 2: inverted on 2 rows (AUC 0);
    # user 3: one class only, ignored. Weighted: (4 * 1 + 2 * 0) / 6.
    labels = np.array([1, 0, 1, 0, 1, 0, 1, 1])
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.5, 0.4])
    groups = np.array([1, 1, 1, 1, 2, 2, 3, 3])
    assert grouped_auc(labels, scores, groups) == pytest.approx(4 / 6)
    # With one group it is the plain AUC.
    rng = np.random.default_rng(0)
    labels, scores = rng.integers(0, 2, 200), rng.random(200)
    assert grouped_auc(labels, scores, np.zeros(200)) == pytest.approx(roc_auc(labels, scores))


def test_equal_frequency_buckets_hold_the_same_number_of_samples_in_score_order():
    scores = np.random.default_rng(1).random(1000)
    buckets = equal_frequency_buckets(scores)
    assert np.bincount(buckets).tolist() == [100] * 10
    assert (np.diff(buckets[np.argsort(scores)]) >= 0).all()


def test_subsets_follow_the_bucket_difference_bounds():
    a = np.arange(100, dtype=float)  # bucket(A) of sample i is i // 10
    b_bucket = [9, 0, 1, 2, 3, 6, 7, 8, 4, 5]  # bucket(B) of the samples of bucket(A) k
    b = np.array([b_bucket[i // 10] * 10 + i % 10 for i in range(100)], dtype=float)
    names = np.array(SUBSETS)[subset_of_samples(a, b)]
    # d = bucket(B) - bucket(A): 9 for block 0, -1 / +1 for blocks 1-7, -4 (inclusive bound) for 8-9.
    assert set(names[:10]) == {"B-overwhelming"}
    assert set(names[10:80]) == {"comparable"}
    assert set(names[80:]) == {"A-overwhelming"}


@pytest.mark.parametrize("architecture", ["stem_net", "ple", "mmoe"])
def test_gate_weights_per_task_sum_to_one_and_respect_visibility(architecture):
    torch.manual_seed(0)
    vocab = {name: 4 for name in SCHEMA.field_names}
    config = ModelConfig(architecture=architecture, embedding_dim=4, expert_hidden=[8], gate_hidden=[4], tower_hidden=[4])
    model = build_model(config, SCHEMA, vocab)
    with torch.no_grad():
        for p in model.embeddings.parameters():
            p.normal_()
    ids = np.random.default_rng(0).integers(0, 4, (300, len(SCHEMA.field_names)))
    split = EncodedSplit(ids=ids, labels=np.zeros((300, 3), dtype=np.float32), true_probs=None)
    weights = average_gate_weights(model, split, batch_size=128, device=torch.device("cpu"))
    for task in SCHEMA.tasks:
        assert sum(weights[task].values()) == pytest.approx(1.0, abs=1e-5)
        assert set(weights[task]) == set(GROUPS)
    if architecture == "ple":
        assert all(weights[t]["other tasks"] == 0.0 and weights[t]["own"] > 0 for t in SCHEMA.tasks)
    if architecture == "stem_net":
        assert all(weights[t]["other tasks"] > 0 for t in SCHEMA.tasks)
    if architecture == "mmoe":
        assert all(weights[t]["shared"] == pytest.approx(1.0) for t in SCHEMA.tasks)
