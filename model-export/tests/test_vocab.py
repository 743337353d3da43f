import math

import pandas as pd
import pytest

from stemnet.encoded_data.vocab import OOV_INDEX, Vocabulary


def test_min_count_keeps_frequent_values_most_frequent_first():
    vocab = Vocabulary.build(pd.Series(["b", "a", "b", "c", "a", "b", "rare"]), min_count=2)
    assert vocab.values == ["b", "a"]
    assert vocab.size == 3  # the OOV row counts


def test_unknown_and_missing_values_map_to_oov_row():
    vocab = Vocabulary(["x", "y"])
    assert vocab.encode(["y", "never-seen", None, math.nan, "x"]).tolist() == [2, OOV_INDEX, OOV_INDEX, OOV_INDEX, 1]


def test_values_are_compared_as_strings():
    vocab = Vocabulary.build(pd.Series([7, "7", 7]), min_count=3)
    assert vocab.values == ["7"]
    assert vocab.encode([7, "7"]).tolist() == [1, 1]


def test_written_file_reads_back_in_index_order(tmp_path):
    path = tmp_path / "field.txt"
    Vocabulary(["u1", "ü2", "u 3"]).write(path)
    assert path.read_text(encoding="utf-8") == "u1\nü2\nu 3\n"
    assert Vocabulary.read(path).values == ["u1", "ü2", "u 3"]


def test_values_with_line_breaks_cannot_be_exported(tmp_path):
    with pytest.raises(ValueError, match="line breaks"):
        Vocabulary(["ok", "bad\nvalue"]).write(tmp_path / "field.txt")
