"""Fresh embeddings on real data: a bundle trained on some days of KuaiRand-Pure, then one delta per following day
(embedding rows only, the dense network frozen), against the same bundle left frozen and, for reference, a new bundle
trained from scratch on every day up to the last delta's. Prints, per model state, the
test day's AUC per task (ONNX Runtime on the base graph with the state's rows, as the service scores) and the share of
test impressions whose item id (and user id) is out of vocabulary. model-export/docs/fresh-embeddings.md has the
figures and how to read them.

From the repository root:
    model-export/.venv/bin/python model-export/scripts/fresh_embeddings.py \\
        --out build/fresh-embeddings [--epochs N] [--source ../shared/data/kuairand-pure-dev]

The raw files are read in place (never copied into the repository); the day slices go to OUT/data/.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stemnet.config import load_config
from stemnet.raw_data.dataset_config import load_dataset_config
from stemnet.raw_data.formats import read_dataset
from stemnet.raw_data.prepare import _checked_columns, _uniform
from stemnet.encoded_data.splits import read_split
from stemnet.evaluate import roc_auc
from stemnet.export.bundle import write_bundle
from stemnet.export.delta import write_delta
from stemnet.incremental import read_serving_state
from stemnet.train import train

REPO = Path(__file__).resolve().parents[2]
VALID_FRACTION = 0.1  # of each training slice, by a hash of the raw row number: early stopping only


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=REPO / "model-export/configs/datasets/kuairand-pure-dev.yaml")
    parser.add_argument("--config", type=Path, default=REPO / "model-export/configs/kuairand-pure-dev.yaml")
    parser.add_argument("--source", type=Path, help="overrides the dataset's path")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base-days", default="20220425-20220427", help="FIRST-LAST dates (yyyymmdd) of the bundle")
    parser.add_argument("--delta-days", default="20220428,20220429", help="one delta per date, in order")
    parser.add_argument("--test-day", type=int, default=20220430)
    parser.add_argument("--epochs", type=int, help="overrides train.epochs (bundle and deltas)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    dataset = load_dataset_config(args.dataset)
    source = args.source or (REPO / dataset.path if not Path(dataset.path).is_absolute() else Path(dataset.path))
    config = load_config(args.config, train__epochs=args.epochs)
    first, last = (int(d) for d in args.base_days.split("-"))
    delta_days = [int(d) for d in args.delta_days.split(",")]
    frame = _read_days(dataset, source)
    schema = dataset.schema(args.dataset)
    test = frame[frame["date"] == args.test_day]
    slices = {"base": frame[(frame["date"] >= first) & (frame["date"] <= last)]}
    slices.update({f"delta-{i + 1}": frame[frame["date"] == day] for i, day in enumerate(delta_days)})
    # The reference: a new bundle trained from scratch on every day up to the last delta's.
    retrain = frame[(frame["date"] >= first) & (frame["date"] <= delta_days[-1])]
    for name, rows in {**slices, "retrain": retrain}.items():
        _write_slice(args.out / "data" / name, rows, test, schema)

    bundle = write_bundle(args.out / "base", train(config, args.out / "data" / "base"), config)
    deltas: list[Path] = []
    summaries = {}
    for name in list(slices)[1:]:
        state = read_serving_state(bundle, deltas)
        data = args.out / "data" / name
        result = train(config, data, start=state, freeze_dense=True)
        summary = write_delta(args.out / name, state, result.model, result.vocabs, read_split(data, "train", schema),
                              config, trained_on=f"KuaiRand-Pure {name}: {data}")
        summaries[name] = {"added": summary.added, "tables": summary.tables}
        deltas.append(args.out / name)
    retrained = write_bundle(args.out / "retrain", train(config, args.out / "data" / "retrain"), config)

    item, user = schema.item_id_field, schema.user_id_field
    test = read_split(args.out / "data" / "base", "test", schema)  # the values as the trainer read them
    labels = test[list(schema.tasks)].to_numpy()
    # The test impressions whose item the frozen bundle does not know: what fresh rows can change.
    unknown = ~test[item].astype(str).isin(read_serving_state(bundle).vocabs[item].values).to_numpy()
    rows = []
    for count in range(len(deltas) + 2):
        state = read_serving_state(bundle, deltas[:count]) if count <= len(deltas) else read_serving_state(retrained)
        ids = np.stack([state.vocabs[f].encode(test[f]) for f in schema.field_names], axis=1)
        probs = state.score_onnx(ids)
        rows.append({
            "state": "frozen bundle" if count == 0 else "bundle + " + ", ".join(
                f"delta {i + 1} ({day})" for i, day in enumerate(delta_days[:count])) if count <= len(deltas)
            else f"reference: new bundle, trained from scratch on {first}-{delta_days[-1]}",
            "auc": _aucs(labels, probs, schema.tasks),
            "auc_on_frozen_oov_items": _aucs(labels[unknown], probs[unknown], schema.tasks),
            "item_oov": float((ids[:, schema.field_names.index(item)] == 0).mean()),
            "user_oov": float((ids[:, schema.field_names.index(user)] == 0).mean()),
        })
    report = {
        "test_day": args.test_day, "test_rows": len(test), "frozen_oov_item_rows": int(unknown.sum()),
        "slices": {name: len(part) for name, part in slices.items()}, "epochs": config.train.epochs,
        "deltas": summaries,
        "states": rows, "seconds": round(time.perf_counter() - started, 1),
    }
    (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_table(report, list(schema.tasks), item))
    return 0


def _aucs(labels: np.ndarray, probs: np.ndarray, tasks) -> dict[str, float]:
    return {task: roc_auc(labels[:, i], probs[:, i]) for i, task in enumerate(tasks)}


def _read_days(dataset, source: Path) -> pd.DataFrame:
    """Every impression (duplicates dropped by the reader) with its fields, labels, date and raw row number."""
    parts = []
    for path, chunk in read_dataset(dataset, source):
        part = _checked_columns(path, chunk, dataset.schema(path), dataset.split)
        part["date"] = pd.to_numeric(chunk["date"]).to_numpy()
        part["row_number"] = chunk["row_number"].to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _write_slice(out: Path, rows: pd.DataFrame, test: pd.DataFrame, schema) -> None:
    """train/valid (a hashed share of `rows`) and test (the test day) as the trainer reads them."""
    out.mkdir(parents=True, exist_ok=True)
    valid = _uniform(rows["row_number"].to_numpy(), seed=0) < VALID_FRACTION
    columns = schema.field_names + list(schema.tasks)
    for split, part in (("train", rows[~valid]), ("valid", rows[valid]), ("test", test)):
        pq.write_table(pa.Table.from_pandas(part[columns].reset_index(drop=True), preserve_index=False),
                       out / f"{split}.parquet")
    schema.save(out)


def format_table(report: dict, tasks: list[str], item: str) -> str:
    head = f"| model state | {' | '.join(f'{t} AUC' for t in tasks)} | mean AUC | {item} OOV | user_id OOV |"
    lines = [head, "|" + "---|" * (len(tasks) + 4)]
    for row in report["states"]:
        aucs = [row["auc"][t] for t in tasks]
        lines.append(f"| {row['state']} | " + " | ".join(f"{a:.4f}" for a in aucs)
                     + f" | {np.nanmean(aucs):.4f} | {row['item_oov']:.1%} | {row['user_oov']:.1%} |")
    lines += ["", f"On the {report['frozen_oov_item_rows']:,} test impressions whose {item} the frozen bundle does not know:",
              f"| model state | {' | '.join(f'{t} AUC' for t in tasks)} | mean AUC |", "|" + "---|" * (len(tasks) + 2)]
    for row in report["states"]:
        aucs = [row["auc_on_frozen_oov_items"][t] for t in tasks]
        lines.append(f"| {row['state']} | " + " | ".join(f"{a:.4f}" for a in aucs) + f" | {np.nanmean(aucs):.4f} |")
    for name, delta in report["deltas"].items():
        tables = ", ".join(f"{t['name']} +{t['appended']:,} appended / {t['updated']:,} updated" for t in delta["tables"][:2])
        lines.append(f"\n{name}: values added {delta['added']}; rows: {tables}, ...")
    lines.append(f"\ntest day {report['test_day']}: {report['test_rows']:,} impressions; training slices "
                 f"{report['slices']}; {report['epochs']} epochs at most; {report['seconds']}s in all")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
