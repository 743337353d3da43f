"""The STEM paper's comparable-subset analysis (Section 3, Figure 1).

Two single-task models' predictions for tasks A and B rank every sample into 10
equal-frequency buckets each (0 = lowest). The bucket difference d = bucket_B - bucket_A in
[-9, 9] splits the samples: d in [-9, -4] is "A-overwhelming" (A's single-task model ranks the
sample far higher than B's), d in (-4, 6] "comparable", d in (6, 9] "B-overwhelming". On the
comparable subset the two tasks' preferences conflict least in magnitude, which is where a
shared embedding is expected to hurt most.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from stemnet.evaluate import roc_auc

BUCKETS = 10
SUBSETS = ("A-overwhelming", "comparable", "B-overwhelming")
# Upper bounds (inclusive) of the bucket difference for each subset, in SUBSETS order.
SUBSET_UPPER_BOUNDS = (-4, 6, 9)


def equal_frequency_buckets(scores: np.ndarray, buckets: int = BUCKETS) -> np.ndarray:
    """Bucket 0..buckets-1 of each score by rank, so every bucket holds the same number of samples."""
    ranks = pd.Series(scores).rank(method="first").to_numpy() - 1
    return (ranks * buckets // len(scores)).astype(np.int64)


def subset_of_samples(single_task_a: np.ndarray, single_task_b: np.ndarray) -> np.ndarray:
    """Index into SUBSETS for every sample."""
    difference = equal_frequency_buckets(single_task_b) - equal_frequency_buckets(single_task_a)
    return np.searchsorted(np.array(SUBSET_UPPER_BOUNDS), difference, side="left")


def subset_aucs(subsets: np.ndarray, labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """One task's AUC on each subset (NaN where a subset has a single class)."""
    return {name: roc_auc(labels[subsets == i], probs[subsets == i]) for i, name in enumerate(SUBSETS)}
