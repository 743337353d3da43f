"""Writes a data set the way a user might bring one: pre-split CSV files with their own column names, a context
column, and missing values. Made from a synthetic data directory (train/valid/test.parquet), for the example in
model-export/README.md ("Bringing your own data") and the service's contract test, which serves the bundle trained
on it (context features and missing values over HTTP).

  python model-export/scripts/user_data_example.py --from build/data/tiny --out build/data/user-data-raw

Columns: uid, device, ad, advertiser, category, creative_type, user_segment, age_band (device blank for every 7th
row), tab (context: home/live/search, from the row), follow, activation, purchased (the pay label).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

RENAMED = {"user_id": "uid", "ad_id": "ad", "pay": "purchased"}
TABS = np.array(["home", "live", "search"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", required=True, type=Path, help="a synthetic data directory")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        frame = pd.read_parquet(args.source / f"{split}.parquet")
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("p_")]).rename(columns=RENAMED)
        rows = np.arange(len(frame))
        frame["tab"] = TABS[rows % len(TABS)]
        frame.loc[rows % 7 == 0, "device"] = None
        frame.to_csv(args.out / f"{split}.csv", index=False)
    print(f"wrote {args.out}/{{train,valid,test}}.csv")


if __name__ == "__main__":
    main()
