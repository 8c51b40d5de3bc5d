"""The arithmetic: which kernels torch, numpy and OpenBLAS run, pinned to one named set, and a record
of what was in force.

torch (ATen), numpy and OpenBLAS each choose their vector kernels by the CPU they find: on an
AVX-512 machine they sum in another order than on an AVX2 one, and float32 results differ in the
last bits. A published model is then reproduced bit for bit only under the kernel set it was trained
with, and a chapter that iterates an oscillating optimisation can end elsewhere. `pin()` selects the
AVX2 kernels of all three (present on practically every x86 machine since 2013), so that a number
published here is reproduced exactly on any such machine. It is applied when `icl` is imported,
before torch and numpy are (every entry point imports `icl` first: the CLI, the chapter kernels,
which inherit the environment, the tests, Slurm and local jobs).

- A variable already set in the environment is left as it is (the user's choice wins);
  `ICL_KERNELS=native` pins nothing (each library picks the machine's best kernels).
- Only on Linux x86-64 CPUs that have AVX2 and FMA: elsewhere (ARM, an old x86, macOS) nothing is
  pinned and the record says why; results there agree with the published ones to float32
  rounding, which is what `icl verify` and the claims' robust readings allow for.
- OpenBLAS's core type is only pinned where the environment leaves it unset (some processors need
  it set for correctness; such a setting is respected).

`describe()` is the record kept in every model's provenance and every claims file: what each library
actually runs (torch's CPU capability, numpy's enabled SIMD targets, OpenBLAS's core), who set each
variable, the CPU and its flags, the BLAS and oneDNN versions, threads, and on a GPU its name and
the CUDA and cuDNN versions. `signature()` is the part of it that fixes the engine's bits.
"""

from __future__ import annotations

import os
import platform
import re
import sys

__all__ = ["PIN", "pin", "pin_report", "describe", "signature", "same_arithmetic", "difference"]

# variable → (value, what it selects)
PIN = {
    "ATEN_CPU_CAPABILITY": ("avx2", "torch's ATen CPU kernels: the AVX2 set"),
    "MKL_ENABLE_INSTRUCTIONS": ("AVX2", "MKL (torch's BLAS): AVX2 code paths"),
    "NPY_DISABLE_CPU_FEATURES": (
        "X86_V4 AVX512_ICL AVX512_SPR",
        "numpy: no AVX-512 dispatch targets (X86_V3 = AVX2 stays)",
    ),
    "OPENBLAS_CORETYPE": ("Haswell", "OpenBLAS (numpy's and SciPy's BLAS): the Haswell (AVX2) kernels"),
}
_REQUIRED_FLAGS = ("avx2", "fma")
_MARK = "ICL_KERNELS_SET"  # the variables icl set, so that processes started from this one say so too
_LIBRARIES = ("torch", "numpy", "scipy")

_state: dict = {}  # what pin() did: {"set": [...], "kept": {...}, "reason": str, "late": [...]}


def _cpuinfo(field: str) -> str | None:
    """The first value of `field` in /proc/cpuinfo, or None where it is absent or unreadable."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _cpu_flags() -> set[str] | None:
    """The CPU's flags from /proc/cpuinfo, or None where it cannot be read."""
    flags = _cpuinfo("flags")
    return None if flags is None else set(flags.split())


def _cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def pin(environ=None) -> dict:
    """Set the pinned kernel variables that `environ` (default os.environ) leaves unset. Returns what
    was done: {"set": names set here, "kept": {name: value} set before, "reason": why nothing was
    pinned or "", "late": libraries imported before the pin, which it cannot reach}."""
    env = os.environ if environ is None else environ
    state = {"set": [], "kept": {}, "reason": "", "late": []}
    if env.get("ICL_KERNELS", "pinned").lower() == "native":
        state["reason"] = "ICL_KERNELS=native: each library uses the machine's best kernels"
    elif sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        state["reason"] = (
            f"not a Linux x86-64 machine ({sys.platform}, {platform.machine()}): the AVX2 set does not apply"
        )
    else:
        flags = _cpu_flags()
        missing = [f for f in _REQUIRED_FLAGS if flags is None or f not in flags]
        if missing:
            state["reason"] = f"the CPU lacks {', '.join(missing)} (or /proc/cpuinfo is unreadable): nothing pinned"
        else:
            inherited = set(env.get(_MARK, "").split())  # set by icl in a parent process (a kernel, a job)
            for name, (value, _) in PIN.items():
                if name in env and not (name in inherited and env[name] == value):
                    state["kept"][name] = env[name]
                else:
                    env[name] = value
                    state["set"].append(name)
            env[_MARK] = " ".join(state["set"])
    state["late"] = [m for m in _LIBRARIES if m in sys.modules]
    if environ is None:
        _state.clear()
        _state.update(state)
    return state


def pin_report() -> dict:
    """What the `pin()` at import did (see pin)."""
    return dict(_state)


def _torch_build() -> dict:
    """MKL and oneDNN versions of the torch build, read from torch.__config__.show()."""
    import torch

    text = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", text)
    dnn = re.search(r"(?:MKL-DNN|oneDNN) v([\d.]+)", text)
    blas = re.search(r"BLAS_INFO=(\w+)", text)
    return {
        "blas": blas.group(1) if blas else None,
        "mkl": mkl.group(1) if mkl else None,
        "onednn": dnn.group(1) if dnn else None,
    }


def _openblas_cores() -> dict:
    """The core type each loaded OpenBLAS library runs ({library file: core}), read from the library."""
    import ctypes

    cores = {}
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line and ".so" in line.split()[-1]})
    except OSError:
        return cores
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for name in (
            "scipy_openblas_get_corename64_",
            "scipy_openblas_get_corename",
            "openblas_get_corename64_",
            "openblas_get_corename",
        ):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                cores[os.path.basename(p)] = fn().decode()
                break
    return cores


def _numpy_simd() -> list[str]:
    """numpy's dispatch targets that are enabled at run time (a disabled one reads False)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]


def describe(device=None) -> dict:
    """The arithmetic in force in this process (see the module docstring); `device`: the torch device
    the computation runs on (a GPU adds its name, CUDA and cuDNN)."""
    import numpy as np
    import torch

    flags = _cpu_flags() or set()
    rep = pin_report()
    record = {
        "torch": torch.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        **{f"torch_{k}": v for k, v in _torch_build().items()},
        "numpy": np.__version__,
        "numpy_simd": _numpy_simd(),
        "openblas_cores": _openblas_cores(),
        "cpu_model": _cpu_model(),
        "cpu_flags": sorted(f for f in flags if re.match(r"(avx|fma|sse4|f16c|amx)", f)),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "pin": {
            name: {
                "value": os.environ.get(name),
                "set_by": "icl" if name in rep.get("set", ()) else ("environment" if name in os.environ else "unset"),
            }
            for name in PIN
        },
        "pin_note": rep.get("reason", "")
        or ("" if not rep.get("late") else f"imported before the pin: {', '.join(rep['late'])}"),
    }
    if "scipy" in sys.modules:
        record["scipy"] = sys.modules["scipy"].__version__
    dev = torch.device(device) if device is not None else None
    if dev is not None and dev.type == "cuda":
        record.update(
            {
                "gpu": torch.cuda.get_device_name(dev),
                "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version(),
            }
        )
    return record


def signature(record: dict, device_type: str = "cpu") -> dict:
    """The part of a `describe()` record that fixes the engine's float32 results: torch's build and,
    on a CPU, its kernel set and BLAS; on a GPU, the device and CUDA. Two runs with equal signatures
    (and the same code, seeds and thread count) agree bit for bit."""
    keys = ("torch", "torch_cpu_capability", "torch_mkl") if device_type == "cpu" else ("torch", "gpu", "cuda", "cudnn")
    return {k: record.get(k) for k in keys}


def difference(recorded: dict | None, current: dict, device_type: str = "cpu") -> dict:
    """{item: (recorded, here)} where the signatures differ; every item when nothing was recorded."""
    if not recorded:
        return {"recorded arithmetic": ("none", f"torch {current.get('torch')} {current.get('torch_cpu_capability')}")}
    a, b = signature(recorded, device_type), signature(current, device_type)
    return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def same_arithmetic(recorded: dict | None, current: dict, device_type: str = "cpu") -> bool:
    """Whether a run recorded as `recorded` can be reproduced bit for bit here."""
    return not difference(recorded, current, device_type)
