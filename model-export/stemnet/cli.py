"""Command line: `python -m stemnet generate|train ...`."""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import yaml

from stemnet.config import Config, ConfigError, ExportConfig, load_config
from stemnet.raw_data.schema import DataError


class ExportRefused(Exception):
    """A bundle the export checks refused to write (e.g. int8 quantization costing too much AUC)."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except (ConfigError, DataError, ExportRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stemnet", description=__doc__)
    commands = parser.add_subparsers(required=True, dest="command")

    generate = commands.add_parser("generate", help="write a synthetic ad-funnel data set")
    generate.add_argument("--config", required=True, type=Path)
    generate.add_argument("--out", required=True, type=Path, help="directory for the Parquet splits")
    generate.add_argument("--seed", type=int, help="overrides data.seed")
    generate.add_argument("--days", type=_day_range, metavar="FIRST[-LAST]",
                          help="day-sliced data (data.days): write only these days' rows, e.g. 1-3 or 4")
    _add_set_option(generate, "data.num_users=1200")
    generate.set_defaults(run=_generate)

    prepare = commands.add_parser("prepare", help="stream a raw data set into train/valid/test Parquet splits")
    prepare.add_argument("--dataset", required=True, type=Path, help="dataset description YAML")
    prepare.add_argument("--out", required=True, type=Path, help="directory for the Parquet splits")
    prepare.add_argument("--source", type=Path, help="overrides the dataset's path")
    prepare.add_argument("--min-count", type=int, default=10,
                         help="the train.min_count the report counts vocabularies at (default 10, the trainer's)")
    prepare.set_defaults(run=_prepare)

    train = commands.add_parser("train", help="train a model and write a scoring bundle")
    train.add_argument("--config", required=True, type=Path)
    train.add_argument("--data", required=True, type=Path, help="directory written by `generate`")
    out = train.add_mutually_exclusive_group(required=True)
    out.add_argument("--bundle-out", type=Path, help="write a bundle (a new version) here")
    out.add_argument("--delta-out", type=Path,
                     help="write a delta of --from-bundle here: embedding rows only, the dense network frozen")
    train.add_argument("--from-bundle", type=Path,
                       help="start from this FP32 bundle's vocabularies, rows and dense weights (incremental training)")
    train.add_argument("--from-delta", type=Path, action="append", default=[],
                       help="a delta of --from-bundle to apply first; repeat for each, in sequence order")
    train.add_argument("--epochs", type=int, help="overrides train.epochs")
    train.add_argument("--seed", type=int, help="overrides train.seed")
    train.add_argument("--device", choices=["cpu", "cuda", "auto"], help="overrides train.device (auto: cuda when available)")
    train.add_argument("--num-workers", type=int, help="overrides train.num_workers (DataLoader worker processes)")
    train.add_argument("--precision", choices=["fp32", "bf16"], help="overrides train.precision")
    train.add_argument("--metrics-out", type=Path, help="JSON lines: AUC and logloss per epoch, split and task")
    train.add_argument("--compile", action="store_true", default=None, help="sets train.compile (torch.compile)")
    train.add_argument("--architecture", help="overrides model.architecture (e.g. mmoe, ple, esmm)")
    train.add_argument("--model-name", help="overrides export.model_name, the name the service serves it under")
    train.add_argument(
        "--quantization", choices=["fp32", "int8"],
        help="overrides export.quantization: int8 ships the dynamically quantized graph, measured against FP32",
    )
    train.add_argument("--checkpoint-dir", type=Path, help="save a checkpoint after every epoch here")
    train.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    train.set_defaults(run=_train)

    bench = commands.add_parser("benchmark", help="train architectures x seeds, print and save comparison tables")
    bench.add_argument("--config", required=True, type=Path)
    bench.add_argument("--data", required=True, type=Path, help="directory written by `generate`")
    bench.add_argument("--out", required=True, type=Path, help="directory for report.md, results.json, plots")
    bench.add_argument("--architectures", type=_names, help="comma-separated (default: every registered one)")
    bench.add_argument("--seeds", type=_names, default=["0", "1", "2"], help="comma-separated train seeds")
    bench.add_argument("--task-pair", type=_names, help="tasks A,B of the comparable-subset analysis (default: first,last)")
    bench.add_argument("--epochs", type=int, help="overrides train.epochs")
    bench.add_argument("--device", choices=["cpu", "cuda", "auto"], help="overrides train.device (auto: cuda when available)")
    _add_set_option(bench, "train.embedding_l2_scope=whole_table")
    bench.add_argument(
        "--grid", action="append", default=[], metavar="SECTION.KEY=[V1,V2,...]", type=_setting,
        help="candidate values (a YAML list) for one config key; repeatable (every combination). Each "
        "architecture is trained at each and keeps the one with the best mean validation AUC",
    )
    bench.add_argument(
        "--save-predictions", action="store_true",
        help="also write predictions.npz: every run's test predictions and the labels (for `synthetic-truth`)",
    )
    bench.set_defaults(run=_benchmark)

    truth = commands.add_parser(
        "synthetic-truth",
        help="synthetic data: AUC of the true logit's parts, and models' AUC on agreeing vs conflicting users",
    )
    truth.add_argument("--config", required=True, type=Path, help="the config whose data section made the data")
    truth.add_argument("--predictions", type=Path, help="predictions.npz from `benchmark --save-predictions`")
    truth.add_argument("--split", default="test", choices=["train", "valid", "test"])
    truth.set_defaults(run=_synthetic_truth)

    speed = commands.add_parser("throughput", help="training samples/s and FLOP rate vs a plain matrix multiply")
    speed.add_argument("--config", required=True, type=Path, help="model and batch size (e.g. configs/paper.yaml)")
    speed.add_argument("--steps", type=int, default=10, help="timed training steps")
    speed.add_argument("--precision", choices=["fp32", "bf16"], help="overrides train.precision")
    speed.add_argument("--compile", action="store_true", default=None, help="sets train.compile")
    speed.add_argument("--fields", type=int, help="input fields (default the synthetic 8; 34: the reference's KuaiRand)")
    speed.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    speed.add_argument("--device", choices=["cpu", "cuda", "auto"], help="overrides train.device (auto: cuda when available)")
    speed.set_defaults(run=_throughput)

    quantize = commands.add_parser("quantize", help="write an int8 copy of an FP32 bundle, measured on the test split")
    quantize.add_argument("--bundle", required=True, type=Path, help="an FP32 bundle")
    quantize.add_argument("--test", required=True, type=Path, help="the test split (Parquet) the bundle was trained with")
    quantize.add_argument("--out", required=True, type=Path, help="directory for the int8 bundle")
    quantize.add_argument("--model-name", help="the int8 bundle's model name (default: the bundle's)")
    quantize.add_argument("--max-auc-drop", type=float, default=ExportConfig.max_auc_drop,
                          help="refuse when a task's test AUC drops by more (default %(default)s)")
    quantize.add_argument("--parity-tolerance", type=float, default=ExportConfig.int8_parity_tolerance,
                          help="the service's parity tolerance for the int8 fixtures (default %(default)s)")
    quantize.set_defaults(run=_quantize)

    ab = commands.add_parser("ab-report", help="compare the arms of an A/B experiment: exposure log joined with labels")
    _add_report_options(ab)
    shares = ab.add_mutually_exclusive_group()
    shares.add_argument("--experiment", type=Path, help="the service's experiment YAML: expected shares of the model layer")
    shares.add_argument("--expected-shares", help="arm=share,... for the sample-ratio test, e.g. control=0.5,treatment=0.5")
    ab.set_defaults(run=_ab_report)

    shadow = commands.add_parser(
        "shadow-report", help="compare a shadow model with the served one, paired on the same requests, with labels")
    _add_report_options(shadow)
    shadow.add_argument("--shadow", help="the shadow's name in the exposure log (default: the only one there)")
    shadow.set_defaults(run=_shadow_report)
    return parser


def _add_report_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--exposures", required=True, type=Path,
                         help="directory of the service's exposure *.jsonl files")
    command.add_argument("--labels", required=True, type=Path,
                         help="Parquet or CSV: requestId, itemId, one 0/1 column per task")
    command.add_argument("--out", type=Path, help="directory for report.json and report.md")
    command.add_argument("--bootstrap", type=_resamples, default=1000, help="bootstrap resamples of units (users)")
    command.add_argument("--seed", type=int, default=0, help="bootstrap seed")


def _resamples(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {count}")
    return count


def _add_set_option(command: argparse.ArgumentParser, example: str) -> None:
    command.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE", type=_setting,
        help=f"overrides one config key, value in YAML (e.g. {example}); repeatable",
    )


def _overrides(settings: list[tuple[str, object]], **options: object) -> dict[str, object]:
    """`--set` pairs and the dedicated options (None when not given) as one set of overrides."""
    overrides = dict(settings)
    for key, value in options.items():
        if value is None:
            continue
        if key in overrides:
            option = key.split("__")[1].replace("_", "-")
            raise ConfigError(f"--set {key.replace('__', '.')}: also given by --{option}")
        overrides[key] = value
    return overrides


def _setting(text: str) -> tuple[str, object]:
    key, separator, value = text.partition("=")
    if not separator or key.count(".") != 1:
        raise argparse.ArgumentTypeError(f"expected SECTION.KEY=VALUE, got {text!r}")
    return key.replace(".", "__"), yaml.safe_load(value)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _generate(args: argparse.Namespace) -> None:
    from stemnet.raw_data.synthetic import generate

    config = load_config(args.config, **_overrides(args.set, data__seed=args.seed))
    started = time.perf_counter()
    counts = generate(config.data, args.out, args.days)
    days = "" if args.days is None else f" (days {args.days[0]}-{args.days[1]})"
    print(f"wrote {counts} rows{days} to {args.out} in {time.perf_counter() - started:.1f}s")


def _day_range(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST or FIRST-LAST (days, e.g. 1-3), got {text!r}") from None


def _prepare(args: argparse.Namespace) -> None:
    from stemnet.raw_data.dataset_config import load_dataset_config
    from stemnet.raw_data.prepare import prepare

    dataset = load_dataset_config(args.dataset)
    started = time.perf_counter()
    report = prepare(dataset, args.source or Path(dataset.path), args.out, args.dataset, min_count=args.min_count)
    print("\n".join(report.lines()))
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s")


def _train(args: argparse.Namespace) -> None:
    # Imported here so `generate` does not pay for importing torch and onnx.
    from stemnet.export.bundle import write_bundle
    from stemnet.export.quantize import QuantizationRejected
    from stemnet.train import train

    config = load_config(
        args.config,
        train__epochs=args.epochs,
        train__seed=args.seed,
        train__device=args.device,
        train__num_workers=args.num_workers,
        train__precision=args.precision,
        train__compile=args.compile,
        model__architecture=args.architecture,
        export__model_name=args.model_name,
        export__quantization=args.quantization,
    )
    start = _starting_state(args, config)
    started = time.perf_counter()
    result = train(config, args.data, checkpoint_dir=args.checkpoint_dir, resume=args.resume, start=start,
                   freeze_dense=args.delta_out is not None, metrics_out=args.metrics_out)
    if result is None:
        return  # a rank other than 0 of a torchrun launch: rank 0 exports
    trained = time.perf_counter()
    if args.delta_out is not None:
        summary = _write_delta(args, config, start, result)
        print(format_delta_summary(summary, start, result.vocabs))
        print(f"trained in {trained - started:.1f}s, exported in {time.perf_counter() - trained:.1f}s: "
              f"delta {summary.sequence} of {start.root} -> {args.delta_out}")
        return
    try:
        write_bundle(args.bundle_out, result, config)
    except QuantizationRejected as error:
        raise ExportRefused(f"{error}; no bundle written to {args.bundle_out}") from error
    manifest = json.loads((args.bundle_out / "manifest.json").read_text(encoding="utf-8"))
    if "quantization" in manifest:
        print(format_quantization(manifest["quantization"]))
    if start is not None:
        print(format_growth(start, result.vocabs, manifest))
    print(
        f"trained in {trained - started:.1f}s, exported in {time.perf_counter() - trained:.1f}s: {args.bundle_out}"
    )


def _starting_state(args: argparse.Namespace, config: Config):
    """The --from-bundle state with the --from-delta deltas applied, or None for training from scratch."""
    if args.from_bundle is None:
        if args.from_delta or args.delta_out is not None:
            raise ConfigError(f"{'--from-delta' if args.from_delta else '--delta-out'} needs --from-bundle")
        return None
    if args.delta_out is not None and config.export.quantization != "fp32":
        raise ConfigError("--delta-out: a delta carries no graph; drop --quantization/export.quantization int8")
    from stemnet.incremental import read_serving_state

    state = read_serving_state(args.from_bundle, args.from_delta)
    print(f"starting from {state.root} ({state.name} {state.version})"
          + (f" + {state.sequence} delta(s)" if state.sequence else ""), flush=True)
    return state


def _write_delta(args: argparse.Namespace, config: Config, start, result):
    from stemnet.encoded_data.splits import open_split, read_split
    from stemnet.export.delta import write_delta

    frame = read_split(args.data, "train", result.schema, max_rows=DELTA_FRAME_ROWS)
    rows = open_split(args.data, "train", result.schema).rows
    return write_delta(args.delta_out, start, result.model, result.vocabs, frame, config,
                       trained_on=f"{args.data} (train split, {rows:,} rows)")


# Rows of the training slice read for the delta's fixture requests (a bounded prefix of a large slice).
DELTA_FRAME_ROWS = 500_000


def format_growth(start, vocabs: dict, manifest: dict | None = None) -> str:
    grown = [(name, start.vocabs[name].size, vocabs[name].size) for name in start.vocabs]
    lines = ["vocabulary growth over the starting bundle and deltas (sizes count the OOV row):"]
    lines += [f"  {name:<24} {before:>9,} -> {after:>9,}  (+{after - before:,})" for name, before, after in grown]
    if manifest is not None:
        lines.append("table rows (a new bundle: its own layout, rows of the base may have moved):")
        lines += [f"  {t['name']:<24} {len(start.tables[t['name']]):>9,} -> {t['rows']:>9,}" for t in manifest["tables"]]
    return "\n".join(lines)


def format_delta_summary(summary, start, vocabs: dict) -> str:
    lines = [format_growth(start, vocabs), f"delta {summary.sequence}: rows appended / existing rows updated per table:"]
    for table in summary.tables:
        lines.append(f"  {table['name']:<24} {table['rowsBefore']:>9,} -> {table['rowsAfter']:>9,} rows  "
                     f"appended {table['appended']:,}  updated {table['updated']:,}")
    lines.append(f"{summary.fixtures} parity fixtures; ONNX Runtime (base graph + delta rows) vs PyTorch: "
                 f"max |difference| {summary.worst_parity:.2g}")
    return "\n".join(lines)


def _quantize(args: argparse.Namespace) -> None:
    import pandas as pd

    from stemnet.export.bundle import quantize_existing
    from stemnet.export.quantize import QuantizationRejected, QuantizationSettings

    ExportConfig(quantization="int8", max_auc_drop=args.max_auc_drop,  # checks the two settings
                 int8_parity_tolerance=args.parity_tolerance)
    started = time.perf_counter()
    try:
        manifest = quantize_existing(args.bundle, args.out, pd.read_parquet(args.test),
                                     QuantizationSettings(args.max_auc_drop, args.parity_tolerance), args.model_name)
    except QuantizationRejected as error:
        raise ExportRefused(f"{error}; no bundle written to {args.out}") from error
    print(format_quantization(manifest["quantization"]))
    print(f"quantized in {time.perf_counter() - started:.1f}s: {args.out}")


def format_quantization(report: dict) -> str:
    test = report["test"]
    lines = [f"int8 vs fp32 on {report['testRows']} test rows (batches of {report['evalBatch']}); "
             f"max |int8 - fp32| probability {report['maxScoreDifference']:.5f}"]
    for task, change in test["aucChange"].items():
        lines.append(f"  {task:<11} auc {_num(test['fp32'][task]['auc'])} -> {_num(test['int8'][task]['auc'])} "
                     f"({'n/a' if change is None else f'{change:+.5f}'})  logloss {_num(test['fp32'][task]['logloss'])} "
                     f"-> {_num(test['int8'][task]['logloss'])}")
    return "\n".join(lines)


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.5f}"


def _ab_report(args: argparse.Namespace) -> None:
    from stemnet.analysis.ab_report import ab_report, experiment_shares, format_report, parse_shares

    if args.experiment:
        shares = experiment_shares(args.experiment)
    else:
        shares = parse_shares(args.expected_shares) if args.expected_shares else None
    report = ab_report(args.exposures, args.labels, shares, bootstrap=args.bootstrap, seed=args.seed)
    _print_and_write(report, "A/B report", format_report(report), args.out)


def _shadow_report(args: argparse.Namespace) -> None:
    from stemnet.analysis.shadow_report import format_report, shadow_report

    report = shadow_report(args.exposures, args.labels, args.shadow, bootstrap=args.bootstrap, seed=args.seed)
    _print_and_write(report, "Shadow report", format_report(report), args.out)


def _print_and_write(report: dict, title: str, markdown: str, out: Path | None) -> None:
    from stemnet.analysis.ab_report import write_report

    print(markdown, end="")
    if out:
        write_report(report, f"# {title}\n\n{markdown}", out)
        print(f"wrote {out / 'report.json'} and {out / 'report.md'}")


def _benchmark(args: argparse.Namespace) -> None:
    from stemnet.benchmark import run_benchmark
    from stemnet.raw_data.schema import Schema
    from stemnet.models.registry import architecture_names
    from stemnet.report import write_report

    settings = _grid_settings(args)
    architectures = args.architectures or architecture_names()
    unknown = sorted(set(architectures) - set(architecture_names()))
    if unknown:
        raise ConfigError(f"--architectures: unknown {unknown}; known: {architecture_names()}")
    tasks = list(Schema.load(args.data).tasks)
    pair = args.task_pair or [tasks[0], tasks[-1]]
    if len(pair) != 2:
        raise ConfigError(f"--task-pair: expected two tasks, got {pair}")
    seeds = [int(seed) for seed in args.seeds]
    started = time.perf_counter()
    bench = run_benchmark(settings, args.data, architectures, seeds, (pair[0], pair[1]))
    command = "python -m stemnet " + " ".join(sys.argv[1:])
    print(write_report(bench, args.out, command, save_predictions=args.save_predictions))
    print(f"benchmark wall time {time.perf_counter() - started:.0f}s; report in {args.out}")


def _grid_settings(args: argparse.Namespace) -> dict[str, Config]:
    """The candidate configs of `benchmark --grid`, by label; one, labelled "", without a grid."""
    fixed = _overrides(args.set, train__epochs=args.epochs, train__device=args.device)
    for key, values in args.grid:
        where = f"--grid {key.replace('__', '.')}"
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: expected a non-empty YAML list such as [1, 8], got {values!r}")
        if key in fixed:
            raise ConfigError(f"{where}: also given by --set or by its own option")
    keys = [key for key, _ in args.grid]
    if len(set(keys)) < len(keys):
        raise ConfigError("--grid: a key is given twice; put all its values in one list")
    settings = {}
    for values in itertools.product(*(values for _, values in args.grid)):
        point = dict(zip(keys, values))
        label = ", ".join(f"{key.replace('__', '.')}={value}" for key, value in point.items())
        settings[label] = load_config(args.config, **fixed, **point)
    return settings


def _synthetic_truth(args: argparse.Namespace) -> None:
    from stemnet.analysis.truth import render_truth

    print(render_truth(load_config(args.config).data, args.split, args.predictions))


def _throughput(args: argparse.Namespace) -> None:
    import torch

    from stemnet.throughput import measure

    if args.threads:
        torch.set_num_threads(args.threads)
    config = load_config(args.config, train__device=args.device, train__precision=args.precision,
                         train__compile=args.compile)
    result = measure(config, args.steps, fields=args.fields)
    print(
        f"{config.model.architecture}, batch {config.train.batch_size}, {args.fields or 8} fields, "
        f"{config.train.precision}{', compiled' if config.train.compile else ''}, "
        f"{result.threads} thread(s): "
        f"{result.samples_per_second:,.0f} samples/s; {result.forward_flops_per_sample / 1e6:.2f} MFLOP/sample forward; "
        f"training {result.training_gflops:.1f} GFLOP/s vs plain matmul {result.matmul_gflops:.1f} GFLOP/s "
        f"({100 * result.share_of_matmul_rate:.0f}%)"
    )
