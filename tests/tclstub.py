"""Run a generated Tcl script in a real tclsh with the vendor commands stubbed, recording each call.

Every command tclsh does not know (Vivado, Vitis HLS) goes to an ``unknown`` handler that
records it with its arguments and returns "". Commands whose result a script uses get
specific stubs (``DEFAULT_STUBS``, plus per-test ones) that record the call the same way
and then run their Tcl body with ``args`` bound. Tcl built-ins (``set``, ``file``, ``cd``,
``error``, ...) run for real, so the scripts' own logic, paths and error checks are executed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Getters return their last argument (the object's name), so `[get_bd_cells ps_0]` reads
# as ps_0 in the recorded call that uses it; the rest return what a script tests for.
DEFAULT_STUBS: dict[str, str] = {
    **{
        name: "return [lindex $args end]"
        for name in ("get_bd_cells", "get_bd_pins", "get_bd_intf_pins", "get_files", "get_runs", "get_ports")
    },
    "get_ipdefs": "return [lindex $args end]",
    "current_project": "return current_project",
    "current_fileset": "return current_fileset",
    # The newest installed version of a board part pattern like xilinx.com:zcu104:part0:*
    "get_board_parts": "return [string map {* 1.1} [lindex $args end]]",
    "get_property": "if {[lindex $args 0] eq {PROGRESS}} { return 100% }; return {}",
}

_PRELUDE = r"""
set ::fg_log [open $::env(FG_TCL_LOG) w]
fconfigure $::fg_log -encoding utf-8
proc fg_record {args} {
    set words {}
    foreach word $args {
        lappend words [string map [list \\ \\\\ \n \\n \t \\t] $word]
    }
    puts $::fg_log [join $words \t]
    flush $::fg_log
}
proc unknown {args} {
    fg_record {*}$args
    return {}
}
"""
_RUN = r"""
if {[catch {source $::env(FG_TCL_SCRIPT)} message]} {
    puts stderr "FG_TCL_ERROR: $message"
    exit 3
}
"""
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPE = {"n": "\n", "t": "\t", "\\": "\\"}


@dataclass(frozen=True)
class Call:
    """One recorded command: its name and its arguments as Tcl passed them."""

    name: str
    args: tuple[str, ...]

    def option(self, flag: str) -> str:
        """The value after ``flag`` (e.g. ``-part``)."""
        i = self.args.index(flag)
        return self.args[i + 1]


@dataclass(frozen=True)
class TclRun:
    """The calls a script made, in order, and what it printed."""

    calls: tuple[Call, ...]
    stdout: str

    def named(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    def one(self, name: str) -> Call:
        calls = self.named(name)
        assert len(calls) == 1, f"{name} called {len(calls)} times: {calls}"
        return calls[0]

    def index(self, name: str, *args: str) -> int:
        """Position of the first call of ``name`` whose arguments start with ``args``."""
        for i, c in enumerate(self.calls):
            if c.name == name and c.args[: len(args)] == args:
                return i
        raise AssertionError(f"no call {name} {' '.join(args)}")


class TclScriptError(Exception):
    """The script raised a Tcl error: ``message`` is its text, ``calls`` what ran before it."""

    def __init__(self, message: str, calls: tuple[Call, ...]) -> None:
        super().__init__(message)
        self.message = message
        self.calls = calls


def tclsh() -> str:
    path = shutil.which("tclsh")
    if path is None:
        raise RuntimeError("tclsh is not on PATH: the generated Tcl scripts are checked in it (apt-get install tcl)")
    return path


def run_tcl(script: Path, stubs: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> TclRun:
    """Source ``script`` in tclsh with ``DEFAULT_STUBS`` updated by ``stubs`` (name -> Tcl body)."""
    procs = "".join(
        f"proc {name} {{args}} {{\n    fg_record {name} {{*}}$args\n    {body}\n}}\n"
        for name, body in {**DEFAULT_STUBS, **(stubs or {})}.items()
    )
    with tempfile.TemporaryDirectory(prefix="fg_tcl_") as tmp:
        log, wrapper = Path(tmp) / "calls.log", Path(tmp) / "run.tcl"
        wrapper.write_text(_PRELUDE + procs + _RUN)
        env = {**os.environ, "FG_TCL_LOG": str(log), "FG_TCL_SCRIPT": str(Path(script).resolve())}
        done = subprocess.run(
            [tclsh(), str(wrapper)], capture_output=True, text=True, env=env, cwd=cwd or tmp, check=False
        )
        calls = tuple(_parse(line) for line in log.read_text(encoding="utf-8").splitlines()) if log.exists() else ()
    if done.returncode == 3 and "FG_TCL_ERROR: " in done.stderr:
        raise TclScriptError(done.stderr.split("FG_TCL_ERROR: ", 1)[1].strip(), calls)
    if done.returncode != 0:
        raise RuntimeError(f"tclsh failed on {script} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return TclRun(calls, done.stdout)


def _parse(line: str) -> Call:
    words = [_ESCAPE.sub(lambda m: _UNESCAPE[m.group(1)], w) for w in line.split("\t")]
    return Call(words[0], tuple(words[1:]))
