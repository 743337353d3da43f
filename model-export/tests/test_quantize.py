"""Int8 export: the quantized graph ships only with its accuracy measured, and its own parity fixtures."""
import dataclasses
import hashlib
import json
from pathlib import Path

import onnx
import pytest

from stemnet.config import ConfigError
from stemnet.export import quantize
from stemnet.export.bundle import quantize_existing, write_bundle
from stemnet.export.parity import candidate_values
from stemnet.export.quantize import BundleLookup, QuantizationRejected, QuantizationSettings, _FieldSides, session


def _with_export(config, **export):
    return dataclasses.replace(config, export=dataclasses.replace(config.export, **export))


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def _fixtures(bundle: Path) -> list[dict]:
    return [json.loads(line) for line in (bundle / "parity.jsonl").read_text().splitlines()]


def _op_types(bundle: Path) -> set[str]:
    return {node.op_type for node in onnx.load(str(bundle / "model.onnx")).graph.node}


@pytest.fixture(scope="module")
def int8_bundle(trained, tiny_config, tmp_path_factory) -> Path:
    # Two epochs on the tiny data: the AUCs are noisy, so the bound here is loose; the measurement is the point.
    config = _with_export(tiny_config, quantization="int8", max_auc_drop=0.5, int8_parity_tolerance=2e-4)
    return write_bundle(tmp_path_factory.mktemp("int8") / "tiny-int8", trained, config)


def test_fp32_stays_the_default_and_says_so(bundle_dir):
    manifest = _manifest(bundle_dir)
    assert manifest["onnx"]["precision"] == "fp32"
    assert manifest["parityTolerance"] == 1e-5
    assert "quantization" not in manifest
    assert "MatMulInteger" not in _op_types(bundle_dir)


def test_int8_export_ships_the_quantized_graph_with_its_accuracy_against_fp32(int8_bundle, trained):
    manifest = _manifest(int8_bundle)
    assert manifest["onnx"]["precision"] == "int8"
    assert manifest["parityTolerance"] == 2e-4
    assert {"MatMulInteger", "DynamicQuantizeLinear"} <= _op_types(int8_bundle)
    report = manifest["quantization"]
    assert report["testRows"] == len(trained.test_frame)
    assert 0 < report["maxScoreDifference"] < 0.05
    for task in manifest["tasks"]:
        fp32, int8 = report["test"]["fp32"][task], report["test"]["int8"][task]
        assert report["test"]["aucChange"][task] == pytest.approx(int8["auc"] - fp32["auc"])
        assert fp32["logloss"] > 0 and int8["logloss"] > 0
        # The FP32 side goes through the bundle's files and ONNX Runtime, and lands on the trainer's own AUC.
        assert fp32["auc"] == pytest.approx(trained.metrics["test"][task]["auc"], abs=1e-4)


def test_int8_fixtures_are_the_shipped_graphs_scores_one_request_per_batch(int8_bundle, bundle_dir):
    manifest = _manifest(int8_bundle)
    lookup, runner = BundleLookup(int8_bundle, manifest), session(int8_bundle / "model.onnx")
    int8_lines, fp32_lines = _fixtures(int8_bundle), _fixtures(bundle_dir)
    assert [line["request"] for line in int8_lines] == [line["request"] for line in fp32_lines]
    differences = []
    for int8_line, fp32_line in zip(int8_lines, fp32_lines):
        rows = candidate_values(int8_line["request"], _FieldSides(manifest))
        (probs,) = runner.run(None, lookup.inputs({f["name"]: [r[f["name"]] for r in rows] for f in manifest["fields"]}))
        for c, expected in enumerate(int8_line["expected"]):
            assert list(expected) == list(fp32_line["expected"][c])
            for task, score in expected.items():
                assert score == pytest.approx(float(probs[c, manifest["tasks"].index(task)]), abs=1e-7)
                differences.append(abs(score - fp32_line["expected"][c][task]))
    # Scored by the int8 graph, not copied from PyTorch's FP32 fixtures.
    assert max(differences) > 1e-5


def test_int8_manifest_checksums_cover_the_rewritten_files(int8_bundle):
    for path, digest in _manifest(int8_bundle)["files"].items():
        assert hashlib.sha256((int8_bundle / path).read_bytes()).hexdigest() == digest, path


def test_int8_export_is_refused_when_a_task_loses_more_auc_than_the_bound(trained, tiny_config, tmp_path, monkeypatch):
    real_predict = quantize.predict

    def inverted_int8(model_file, inputs, batch=quantize.EVAL_BATCH):
        probs = real_predict(model_file, inputs, batch)
        return 1 - probs if "int8" in Path(model_file).name else probs

    monkeypatch.setattr(quantize, "predict", inverted_int8)
    out = tmp_path / "refused"
    config = _with_export(tiny_config, quantization="int8", max_auc_drop=0.01)
    with pytest.raises(QuantizationRejected, match=r"export.max_auc_drop = 0.01"):
        write_bundle(out, trained, config)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "export, key",
    [
        ({"quantization": "fp16"}, "export.quantization"),
        ({"max_auc_drop": -0.1}, "export.max_auc_drop"),
        ({"int8_parity_tolerance": 0.01}, "export.int8_parity_tolerance"),
        ({"int8_parity_tolerance": 0.0}, "export.int8_parity_tolerance"),
    ],
)
def test_unusable_export_settings_are_refused_naming_the_key(tiny_config, export, key):
    with pytest.raises(ConfigError, match=key):
        _with_export(tiny_config, **export)


def test_an_existing_fp32_bundle_is_quantized_into_a_new_version(bundle_dir, trained, tmp_path):
    out = tmp_path / "stem-net-int8"
    manifest = quantize_existing(bundle_dir, out, trained.test_frame, QuantizationSettings(0.5, 1e-4), "stem-net-int8")
    assert manifest == _manifest(out)
    assert manifest["model"]["name"] == "stem-net-int8"
    assert manifest["onnx"]["precision"] == "int8" and manifest["parityTolerance"] == 1e-4
    assert "MatMulInteger" in _op_types(out)
    assert (out / "tables").is_dir() and sorted(manifest["files"]) == sorted(_manifest(bundle_dir)["files"])
    with pytest.raises(ConfigError, match="quantize an FP32 bundle"):
        quantize_existing(out, tmp_path / "twice", trained.test_frame, QuantizationSettings(0.5, 1e-4))


def test_cli_quantize_refusal_is_one_line_and_status_2(bundle_dir, trained, tmp_path, monkeypatch, capsys):
    from stemnet.cli import main

    real_predict = quantize.predict
    monkeypatch.setattr(
        quantize, "predict",
        lambda model_file, inputs, batch=quantize.EVAL_BATCH: (
            1 - real_predict(model_file, inputs, batch) if "int8" in Path(model_file).name
            else real_predict(model_file, inputs, batch)
        ),
    )
    test_split = tmp_path / "test.parquet"
    trained.test_frame.to_parquet(test_split)
    out = tmp_path / "int8"

    status = main(["quantize", "--bundle", str(bundle_dir), "--test", str(test_split), "--out", str(out)])

    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("error: int8 quantization costs") and "no bundle written" in error
    assert "Traceback" not in error and not out.exists()
