"""The pinned kernel set (icl.arithmetic): what is pinned where, who wins, and what is recorded."""

import json
import os
import subprocess
import sys

import pytest

from icl import arithmetic
from icl.arithmetic import PIN, describe, difference, pin, pin_report, same_arithmetic, signature


@pytest.fixture
def x86_with_avx2(monkeypatch):
    monkeypatch.setattr(arithmetic, "_cpu_flags", lambda: {"sse4_2", "avx", "avx2", "fma", "avx512f"})
    monkeypatch.setattr(arithmetic.sys, "platform", "linux")
    monkeypatch.setattr(arithmetic.platform, "machine", lambda: "x86_64")


def test_pin_sets_every_variable_the_environment_leaves_unset(x86_with_avx2):
    env = {"OPENBLAS_CORETYPE": "Zen"}
    state = pin(env)
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["MKL_ENABLE_INSTRUCTIONS"] == "AVX2"
    assert "X86_V4" in env["NPY_DISABLE_CPU_FEATURES"].split()
    assert env["OPENBLAS_CORETYPE"] == "Zen", "a core type set for the processor must be respected"
    assert state["kept"] == {"OPENBLAS_CORETYPE": "Zen"} and set(state["set"]) == set(PIN) - {"OPENBLAS_CORETYPE"}


def test_a_child_process_records_the_pin_of_its_parent_as_icls(x86_with_avx2):
    parent = {}
    pin(parent)
    child = dict(parent)  # a chapter kernel or a job inherits the environment
    assert set(pin(child)["set"]) == set(PIN) and child == parent
    child = dict(parent, ATEN_CPU_CAPABILITY="default")  # but a changed value is the user's
    assert pin(child)["kept"] == {"ATEN_CPU_CAPABILITY": "default"}


def test_pin_leaves_a_users_choice_alone(x86_with_avx2):
    env = {"ATEN_CPU_CAPABILITY": "default"}
    pin(env)
    assert env["ATEN_CPU_CAPABILITY"] == "default"


def test_native_pins_nothing(x86_with_avx2):
    env = {"ICL_KERNELS": "native"}
    state = pin(env)
    assert set(env) == {"ICL_KERNELS"} and "native" in state["reason"]


def test_no_pin_without_avx2_or_off_x86(monkeypatch):
    monkeypatch.setattr(arithmetic.sys, "platform", "linux")
    monkeypatch.setattr(arithmetic.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(arithmetic, "_cpu_flags", lambda: {"sse4_2", "avx"})
    env = {}
    assert "avx2" in pin(env)["reason"] and env == {}
    monkeypatch.setattr(arithmetic.platform, "machine", lambda: "aarch64")
    assert "x86-64" in pin(env)["reason"] and env == {}


def test_the_tests_run_under_the_pin_they_record():
    """conftest imports icl before torch: the capability torch runs is the one the pin asked for."""
    rec = describe()
    for name in PIN:
        assert rec["pin"][name]["value"] == os.environ.get(name)
    if "ATEN_CPU_CAPABILITY" in pin_report().get("set", []):
        assert rec["torch_cpu_capability"] == "AVX2"
    assert rec["torch_mkl"] and rec["threads"] >= 1 and rec["cpu_model"]


def _capability_in_subprocess(**env):
    base = {k: v for k, v in os.environ.items() if k not in PIN and k not in ("ICL_KERNELS", "ICL_KERNELS_SET")}
    code = (
        "import icl, json, torch; from icl.arithmetic import describe; r = describe(); "
        "print(json.dumps([torch.backends.cpu.get_cpu_capability(), r['pin']['ATEN_CPU_CAPABILITY'], r['numpy_simd']]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_icl_pins_torch_and_numpy_unless_told_otherwise():
    if "avx2" not in (arithmetic._cpu_flags() or set()):
        pytest.skip("this CPU has no AVX2: nothing is pinned here")
    cap, who, simd = _capability_in_subprocess()
    assert cap == "AVX2" and who == {"value": "avx2", "set_by": "icl"}
    assert not any(t.startswith(("X86_V4", "AVX512")) for t in simd), simd
    cap, who, _ = _capability_in_subprocess(ATEN_CPU_CAPABILITY="default")
    assert cap == "DEFAULT" and who == {"value": "default", "set_by": "environment"}


def test_signature_tells_bit_for_bit_from_rounding():
    here = {"torch": "2.13.0+cpu", "torch_cpu_capability": "AVX2", "torch_mkl": "2024.2", "threads": 2}
    assert same_arithmetic(dict(here, threads=1, cpu_model="another"), here)
    other = dict(here, torch_cpu_capability="AVX512")
    assert difference(here, other) == {"torch_cpu_capability": ("AVX2", "AVX512")}
    assert not same_arithmetic(None, here) and "recorded arithmetic" in difference(None, here)
    assert set(signature(here, "cuda")) == {"torch", "gpu", "cuda", "cudnn"}
