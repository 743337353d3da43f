"""Readers for the raw public formats the STEM paper used, each yielding (file, chunk) pairs
whose chunks hold the raw columns plus derived label columns.

- csv / tsv / parquet: one file whose columns already are the fields and tasks.
- tiktok: ICME 2019 Short Video Understanding Challenge track 1 (final_track1_train.txt):
  tab-separated, no header, columns TIKTOK_COLUMNS; tasks finish and like.
- kuairand: a KuaiRand-1K or KuaiRand-Pure directory: log_standard_*.csv impressions joined
  with user_features_*.csv on user_id and video_features_basic_*.csv on video_id;
  `finish` = play_time_ms >= 0.95 * duration_ms. (Its logs repeat rows: `prepare` drops exact
  duplicates of kuairand data by default, see DatasetConfig.drop_duplicates.)
- tenrec: Tenrec QK-video.csv (user_id, item_id, click, follow, like, share, video_category,
  watching_times, gender, age).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from stemnet.raw_data.dataset_config import DatasetConfig
from stemnet.raw_data.readers import iter_chunks
from stemnet.raw_data.schema import DataError

Chunks = Iterator[tuple[Path, pd.DataFrame]]

TIKTOK_COLUMNS = [
    "uid", "user_city", "item_id", "author_id", "item_city", "channel",
    "finish", "like", "music_id", "device", "time", "duration_time",
]
KUAIRAND_FINISH_SHARE = 0.95


def read_dataset(config: DatasetConfig, path: Path) -> Chunks:
    return _READERS[config.format](config, path)


def _file(config: DatasetConfig, path: Path, separator: str = ",", header_names=None) -> Chunks:
    for chunk in iter_chunks(path, chunk_rows=config.chunk_rows, separator=separator, header_names=header_names):
        yield path, chunk


def _tiktok(config: DatasetConfig, path: Path) -> Chunks:
    return _file(config, path, separator="\t", header_names=TIKTOK_COLUMNS)


def _kuairand(config: DatasetConfig, directory: Path) -> Chunks:
    logs = _one_or_more(directory, "log_standard_*.csv")
    users = _lookup_table(_one_or_more(directory, "user_features_*.csv")[0], "user_id")
    videos = _lookup_table(_one_or_more(directory, "video_features_basic_*.csv")[0], "video_id")
    for log in logs:
        for chunk in iter_chunks(log, chunk_rows=config.chunk_rows):
            play, duration = pd.to_numeric(chunk["play_time_ms"]), pd.to_numeric(chunk["duration_ms"])
            chunk["finish"] = (play >= KUAIRAND_FINISH_SHARE * duration).astype(int).astype(str)
            joined = chunk.merge(users, on="user_id", how="left").merge(videos, on="video_id", how="left")
            yield log, joined


def _lookup_table(path: Path, key: str) -> pd.DataFrame:
    """A small side table (users, videos), read whole: it has one row per entity."""
    table = pd.concat(chunk for chunk in iter_chunks(path)).drop(columns=["row_number"])
    if key not in table.columns:
        raise DataError(f"{path}: missing join column {key!r}")
    return table.drop_duplicates(subset=[key])


def _one_or_more(directory: Path, pattern: str) -> list[Path]:
    found = sorted(directory.glob(pattern))
    if not found:
        raise DataError(f"{directory}: no file matches {pattern}")
    return found


_READERS: dict[str, Callable[[DatasetConfig, Path], Chunks]] = {
    "csv": lambda config, path: _file(config, path),
    "tsv": lambda config, path: _file(config, path, separator="\t"),
    "parquet": lambda config, path: _file(config, path),
    "tiktok": _tiktok,
    "kuairand": _kuairand,
    "tenrec": lambda config, path: _file(config, path),
}
