"""The ``fpga-gen`` command: build | csim | cosim | report | boards | demo | sweep."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fpga_gen.errors import FpgaGenError, ModelLoadError
from fpga_gen.frontends.calibrate import METHODS
from fpga_gen.sweep import DEFAULT_ACTIVATIONS, DEFAULT_FORMATS


def _read_model(path: Path, input_format: str | None) -> object:
    """A Keras/QKeras model file, or a directory written by Graph.save."""
    from fpga_gen import from_qkeras, load

    if path.is_dir():
        return load(path)
    from fpga_gen.frontends.qkeras import load_model

    return from_qkeras(load_model(path), input_format)


def _read_inputs(path: Path) -> np.ndarray:
    try:
        data = np.load(path)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read inputs {path}: {exc}; pass a .npy array of shape (n, ...)") from exc
    if hasattr(data, "files"):  # .npz: take the array named x, else the only one
        keys = list(data.files)
        data = data["x"] if "x" in keys else data[keys[0]]
    return np.asarray(data)


def _cmd_build(args: argparse.Namespace) -> int:
    import fpga_gen

    graph = _read_model(Path(args.model), args.input_format)
    project = fpga_gen.build(
        graph,  # type: ignore[arg-type]
        board=args.board,
        out=args.out,
        allow_overfit=args.allow_overfit,
    )
    board = project.board
    print(f"wrote {project.path} for {board.name} ({board.part}, {board.dsp_kind})")
    print(f"  HLS IP:   cd {project.path / 'hls'} && vitis_hls -f build.tcl")
    if board.flow == "zynq":
        print(f"  bitstream: vivado -mode batch -source {project.path / 'vivado' / 'build.tcl'}")
        print(f"  deploy:    see {project.path / 'driver' / 'README.md'}")
    else:
        print(f"  xclbin:    make -C {project.path / 'vitis'}   (then python {project.path / 'host' / 'run.py'})")
    print(f"  Verilog alone: vivado -mode batch -source {project.path / 'vivado' / 'rtl_synth.tcl'}")
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    import fpga_gen

    project = fpga_gen.open_project(args.project)
    x = _read_inputs(Path(args.input))
    y_golden = project.graph.predict(x)
    if args.command == "csim":
        y = project.csim(x)
        extra = ""
    else:
        y, result = project.cosim(x, report=True)
        extra = f"; latency {result.latency_cycles} cycles, interval {result.interval_cycles} cycles"
    same = int(np.sum(np.all(y == y_golden, axis=tuple(range(1, y.ndim)))))
    if args.output:
        np.save(args.output, y)
    print(f"{args.command} == golden on {same} / {len(x)} samples{extra}")
    return 0 if same == len(x) else 1


def _cmd_report(args: argparse.Namespace) -> int:
    import fpga_gen

    rep = fpga_gen.open_project(args.project).report(yosys=not args.no_yosys)
    print(json.dumps(rep, indent=1) if args.json else _report_table(rep))
    return 0


_RESOURCES = ("dsp", "lut", "ff", "bram36")


def _report_table(rep: dict[str, Any]) -> str:
    """Per layer: formats, MACs, fold, cycles per sample as the fold, the RTL and the HLS schedule
    them, estimate (and Yosys) resources; then the totals."""
    yosys = "yosys" in rep["totals"]
    head = ["layer", "kind", "input [x weight] -> output", "MACs", "PE x SIMD", "cycles fold/rtl/hls"]
    head += [f"{r} est" for r in _RESOURCES] + ([f"{r} yosys" for r in _RESOURCES] if yosys else [])
    rows = [head]
    for l in rep["layers"]:
        vectors = f" x {l['vectors']} vectors" if l.get("vectors", 1) > 1 else ""
        fold = f"{l['pe']} x {l['simd']}{vectors}" if "pe" in l else ""
        formats = f"{l['input']} x {l['weight']}" if "weight" in l else l["input"]
        row = [l["name"], l["kind"], f"{formats} -> {l['output']}", str(l.get("macs", "")), fold]
        row += ["/".join("-" if l["interval"][k] is None else str(l["interval"][k]) for k in ("fold", "rtl", "hls"))]
        for key in ("estimate", "yosys") if yosys else ("estimate",):
            row += [f"{l[key][r]:g}" if l[key] else "" for r in _RESOURCES]
        rows.append(row)
    t = rep["totals"]
    rows.append(["total", "", "", "", "", ""] + [f"{t['need'][r]:g}" for r in _RESOURCES])
    if yosys:
        rows[-1] += [f"{t['yosys'][r]:g}" for r in _RESOURCES]
    rows.append(["available", rep["board"], "", "", "", ""] + [f"{t['have'][r]:g}" for r in _RESOURCES])
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]
    use = ", ".join(f"{r} {100 * t['utilization'][r]:.1f}%" for r in _RESOURCES)
    verdict = "fits" if t["fits"] else f"does NOT fit ({', '.join(t['over'])})"
    lines.append(
        f"{rep['board']} ({rep['part']}, {rep['dsp_kind']}, {rep['clock_mhz']:g} MHz): estimate {verdict}; {use}"
    )
    lines.append(f"RTL latency {rep['latency_cycles']} cycles, interval {rep['interval_cycles']} cycles")
    return "\n".join(lines)


def _cmd_boards(args: argparse.Namespace) -> int:
    from fpga_gen import boards

    rows = [boards.load(name) for name in boards.known()]
    row = "{:<14} {:<24} {:>6} {:<8} {:>8} {:>9} {:>6} {:>5} {}"
    print(row.format("board", "part", "DSP", "kind", "LUT", "FF", "BRAM36", "MHz", "flow"))
    for b in rows:
        print(row.format(b.name, b.part, b.dsp, b.dsp_kind, b.lut, b.ff, b.bram36, f"{b.clock_mhz:g}", b.flow))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from fpga_gen import demo

    result = demo.run(out=args.out, board=args.board)
    print(demo.table(result))
    if not demo.all_exact(result):
        print("NOT bit-exact: see the counts above", file=sys.stderr)
        return 1
    return 0


def _read_labelled(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """An .npz with inputs ``x`` and (optionally) labels ``y``."""
    try:
        data = np.load(path)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}; pass an .npz with arrays x and y") from exc
    if not hasattr(data, "files") or "x" not in data.files:
        raise ModelLoadError(f"{path} must be an .npz holding an array named x (and y, the labels)")
    return np.asarray(data["x"]), (np.asarray(data["y"]) if "y" in data.files else None)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from fpga_gen.frontends.qkeras import load_model
    from fpga_gen.sweep import sweep

    model = load_model(args.model)
    x_cal, y_cal = _read_labelled(Path(args.calibration))
    if args.data is not None:
        x_test, y_test = _read_labelled(Path(args.data))
        if y_test is None:
            raise ModelLoadError(f"{args.data} holds no labels y: accuracy needs them")
    else:
        if y_cal is None or not 0 < args.holdout < 1:
            raise ModelLoadError(
                f"without --data, the last --holdout fraction (0..1, got {args.holdout}) of {args.calibration} is "
                "held out for accuracy, so it must hold labels y too"
            )
        cut = len(x_cal) - max(round(len(x_cal) * args.holdout), 1)
        x_cal, x_test, y_test = x_cal[:cut], x_cal[cut:], y_cal[cut:]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    result = sweep(
        model,
        x_cal,
        (x_test, y_test),
        formats,
        activations=args.activations,
        method=args.method,
        per_channel=not args.per_tensor,
        board=args.board,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(result.table())
    print(f"wrote {result.write_csv(out / 'sweep.csv')} and {result.plot(out / 'sweep.png')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fpga-gen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="convert a model and write HLS + RTL projects")
    p.add_argument("model", help="a .keras/.h5 QKeras model, or a directory written by Graph.save")
    p.add_argument("--board", default="pynq-z2", help="board name or path to a board YAML")
    p.add_argument("--out", required=True, help="project directory to write")
    p.add_argument("--input-format", default=None, help="input format when the model has no input quantizer")
    p.add_argument(
        "--allow-overfit", action="store_true", help="write the project even when the estimate exceeds the board"
    )
    p.set_defaults(run=_cmd_build)
    for name, what in (("csim", "the HLS C++ with g++"), ("cosim", "the Verilog with Verilator + cocotb")):
        p = sub.add_parser(name, help=f"run {what} and compare with the golden model")
        p.add_argument("project", help="project directory written by build")
        p.add_argument("--input", required=True, help=".npy / .npz batch of float inputs")
        p.add_argument("--output", default=None, help="save the outputs as .npy")
        p.set_defaults(run=_cmd_sim)
    p = sub.add_parser("report", help="print the project's resource and latency report")
    p.add_argument("project")
    p.add_argument("--no-yosys", action="store_true", help="the estimate only: skip Yosys synth_xilinx")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_cmd_report)
    sub.add_parser("boards", help="list the known boards").set_defaults(run=_cmd_boards)
    p = sub.add_parser("demo", help="train the digits MLP and CNN and run them at every level")
    p.add_argument("--out", default="build/demo")
    p.add_argument("--board", default="pynq-z2")
    p.set_defaults(run=_cmd_demo)
    p = sub.add_parser("sweep", help="quantize a float Keras model with several weight formats: accuracy vs cost")
    p.add_argument("model", help="a float .keras/.h5 model")
    p.add_argument("--calibration", required=True, help=".npz with x (and y when --data is not given)")
    p.add_argument("--data", default=None, help=".npz with held-out x and y (default: split the calibration file)")
    p.add_argument("--holdout", type=float, default=0.5, help="without --data: the last fraction held out")
    p.add_argument(
        "--formats", default=",".join(DEFAULT_FORMATS), help="comma-separated: fixedN, ternary, binary, e4m3.."
    )
    p.add_argument("--activations", default=DEFAULT_ACTIVATIONS, help="activation format (scale calibrated)")
    p.add_argument("--method", default="mse", choices=METHODS, help="range calibration")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor (default: per channel)")
    p.add_argument("--board", default="pynq-z2", help="board whose LUTs per DSP weigh the cost")
    p.add_argument("--out", default=".", help="directory for sweep.csv and sweep.png")
    p.set_defaults(run=_cmd_sweep)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except FpgaGenError as exc:
        print(f"fpga-gen {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
