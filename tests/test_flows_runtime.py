"""The runtime drivers carry: a copy of fpga_gen's formats and packing that needs numpy only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from graphs import random_inputs, random_mlp

from fpga_gen.backends.hls.codes import ints_to_codes
from fpga_gen.flows.runtime import vendor_runtime
from fpga_gen.ir import quantize_inputs
from fpga_gen.packing import pack

_SCRIPT = """
import json, sys
import numpy as np
import fpga_gen, fpga_gen.formats, fpga_gen.packing
assert fpga_gen.__file__.startswith(sys.argv[1]), fpga_gen.__file__
assert not any(m.startswith(("tensorflow", "jinja2", "pydantic", "yaml")) for m in sys.modules)
doc = json.loads(sys.stdin.read())
fmt = fpga_gen.formats.parse_format(doc["format"])
x = np.array(doc["x"])
codes = fmt.to_codes(fmt.quantize(x))
data = fpga_gen.packing.pack(codes, doc["elems"], fmt.bits)
print(json.dumps({"codes": codes.tolist(), "bytes": data.tobytes().hex()}))
"""


def test_vendored_runtime_codes_equal_the_golden_host_path(tmp_path: Path) -> None:
    root = vendor_runtime(tmp_path / "driver").parent
    assert vendor_runtime(root).parent == root  # a second copy replaces the first
    for fmt_name in ("fixed<8,2,RND_CONV,SAT>", "e4m3", "ufixed<6,1,RND,SAT>"):
        graph = random_mlp(3, (8, 4), input_format=fmt_name)
        x = random_inputs(4, graph, 6) * 1.7
        doc = {"format": str(graph.input.output.format), "x": x.tolist(), "elems": 4}
        # -I -S: no PYTHONPATH, no site hooks (an editable install of fpga_gen), so only the copy can provide it.
        site = [p for p in sys.path if p.endswith("site-packages")]
        preamble = f"import sys; sys.path[:0] = {[str(root), *site]!r}\n"
        run = subprocess.run(
            [sys.executable, "-I", "-S", "-c", preamble + _SCRIPT, str(root)],
            input=json.dumps(doc),
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(run.stdout)
        fmt = graph.input.output.format
        want = ints_to_codes(fmt, quantize_inputs(graph, x)[0])
        assert np.array_equal(np.array(got["codes"]), want)
        assert bytes.fromhex(got["bytes"]) == pack(want, 4, fmt.bits).tobytes()
