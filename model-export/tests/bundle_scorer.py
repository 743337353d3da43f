"""Scores a bundle the way the Java service does, without the stemnet package: vocabulary
files -> row indices -> rows from the .f32 tables -> ONNX Runtime."""
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

TOLERANCE = 1e-5


class BundleScorer:
    def __init__(self, root: Path):
        self.manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        self.fields = {f["name"]: f for f in self.manifest["fields"]}
        self.vocab = {
            name: {v: i + 1 for i, v in enumerate((root / f["vocabulary"]).read_text(encoding="utf-8").split("\n")[:-1])}
            for name, f in self.fields.items()
        }
        self.tables = {
            t["name"]: (t, np.fromfile(root / t["file"], dtype="<f4").reshape(t["rows"], t["dim"]))
            for t in self.manifest["tables"]
        }
        self.session = ort.InferenceSession(str(root / self.manifest["onnx"]["file"]))

    def row_index(self, field: str, value) -> int:
        return 0 if value is None else self.vocab[field].get(str(value), 0)

    def values(self, request: dict, candidate: dict) -> dict:
        user = {**request.get("userFeatures", {}), self.manifest["userIdField"]: request.get("userId")}
        item = {**candidate.get("features", {}), self.manifest["itemIdField"]: candidate.get("itemId")}
        return {name: (user if f["side"] == "user" else item).get(name) for name, f in self.fields.items()}

    def table_row(self, table: str, field: dict, index: int) -> int:
        return field["rowOffset"] + index

    def score(self, request: dict) -> list[dict]:
        candidates = [self.values(request, c) for c in request["candidates"]]
        feeds = {}
        for spec in self.manifest["onnx"]["inputs"]:
            table, rows = self.tables[spec["table"]]
            index = [[self.table_row(table["name"], f, self.row_index(f["name"], c[f["name"]])) for f in table["fields"]]
                     for c in candidates]
            feeds[spec["name"]] = rows[np.array(index)]
        (probs,) = self.session.run([self.manifest["onnx"]["outputs"][0]["name"]], feeds)
        tasks = self.manifest["tasks"]
        wanted = request.get("tasks", tasks)
        return [{t: float(row[tasks.index(t)]) for t in wanted} for row in probs]


class ServedModel(BundleScorer):
    """A bundle with deltas applied as docs/bundle-format.md ("Deltas") says the service applies them: added
    values take the next indices, base rows stay where they are, a delta's rows overwrite or append."""

    def __init__(self, root: Path, deltas=()):
        super().__init__(root)
        self.base_sizes = {name: f["vocabSize"] for name, f in self.fields.items()}
        self.appended = {name: {} for name in self.tables}  # table -> (field, index) -> row
        for delta in deltas:
            self.apply(delta)

    def apply(self, root: Path) -> dict:
        delta = json.loads((root / "delta.json").read_text(encoding="utf-8"))
        before = {}
        for field in delta["fields"]:
            values = (root / field["vocabulary"]).read_text(encoding="utf-8").split("\n")[:-1]
            before[field["name"]] = field["vocabSizeBefore"]
            for k, value in enumerate(values):
                self.vocab[field["name"]][value] = field["vocabSizeBefore"] + k
        for entry in delta["tables"]:
            spec, rows = self.tables[entry["name"]]
            grown = np.zeros((entry["rowsAfter"], entry["dim"]), dtype=np.float32)
            grown[: len(rows)] = rows
            index = np.fromfile(root / entry["rows"], dtype="<i8")
            grown[index] = np.fromfile(root / entry["values"], dtype="<f4").reshape(len(index), entry["dim"])
            self.tables[entry["name"]] = (spec, grown)
            for block in entry["appended"]:
                for k in range(block["count"]):
                    self.appended[entry["name"]][(block["field"], before[block["field"]] + k)] = block["firstRow"] + k
        return delta

    def table_row(self, table: str, field: dict, index: int) -> int:
        if index < self.base_sizes[field["name"]]:
            return field["rowOffset"] + index
        return self.appended[table][(field["name"], index)]


def parity_lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "parity.jsonl").read_text(encoding="utf-8").splitlines()]


def worst_parity_error(root: Path, scorer: BundleScorer | None = None) -> float:
    """The largest difference between the bundle's (or `scorer`'s) scores and the parity fixtures' in `root`."""
    scorer = scorer or BundleScorer(root)
    worst = 0.0
    for line in parity_lines(root):
        for got, want in zip(scorer.score(line["request"]), line["expected"], strict=True):
            assert got.keys() == want.keys()
            worst = max(worst, max(abs(got[t] - want[t]) for t in want))
    return worst
