"""A chapter's parameters: read from its parameters cell and checked before any kernel starts.

Every chapter's first code cell, tagged `parameters`, assigns its papermill parameters literal
defaults: `profile`, `device`, the task (`d`, `L`, `sigma2`) and its own scientific parameters
(head counts, seeds, …). `icl chapters -p NAME=VALUE` (`icl.pipeline.execute.execute_chapters`) checks,
before executing anything, that NAME is one of them in every chapter it is passed to and that VALUE
has the kind the parameter takes:

- the kind of its default; a default None stands for the paper's value, whose kind is that of the
  `TaskConfig` field of the same name (d, L: integers; sigma2: a number) or of the chapter's budget
  field of that name at the run's profile (`icl.book.budgets`; its annotation may allow more, e.g.
  `seeds: int | tuple`). A passed None always means that value. A parameter with neither (a page's
  own) takes the kind of its default, or anything when that is None too;
- ranges, from the parameter's name: integers ≥ 1 (counts, sizes, head counts), except a seed
  (`seed`, `*_seed`, and the elements of `*seeds`) ≥ 0; a name with `sigma2` ≥ 0, with `xi` > 0,
  with `rho` in (−1, 1); lists are non-empty; every number is finite.

`icl.book.chapter.start` checks the values it receives the same way (the second line of defence, for a
chapter executed by other means).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import io
import math
import numbers
import re
import tokenize
import types
import typing
from pathlib import Path
from typing import NamedTuple

__all__ = ["Parameter", "ParameterError", "declared", "check_value", "check_values", "check_parameters"]

ALWAYS = ("profile", "device")  # set by --profile and --device, passed to every chapter and page


class ParameterError(ValueError):
    """A chapter parameter that the chapter does not take, or a value of the wrong kind."""


class Parameter(NamedTuple):
    name: str
    default: object  # the literal value the parameters cell assigns
    help: str  # its trailing comment


def declared(source: str | Path) -> dict[str, Parameter]:
    """The parameters of the chapter source `source` (a jupytext notebook): name → Parameter, in the
    order of its cell tagged `parameters` ({} when it has none). Defaults must be Python literals."""
    import jupytext

    nb = jupytext.read(Path(source))
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    text = cell.source
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.COMMENT
    }
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            try:
                default = ast.literal_eval(node.value)
            except ValueError:
                default = ast.get_source_segment(text, node.value)
            out[name] = Parameter(name, default, comments.get(node.end_lineno, ""))
    return out


# --- kinds: what a value of a parameter may be ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Kind:
    """Accepted types ("int", "float", "str", "bool", "dict", "seq", "any"), the element kind of a
    "seq", and the range the parameter's name implies."""

    types: frozenset
    element: _Kind | None = None
    low: float | None = None  # lower bound
    strict: bool = False  # low is excluded
    high: float | None = None  # upper bound, excluded
    choices: tuple | None = None  # the strings accepted, where the package names them

    def accepts(self, v) -> bool:
        if "any" in self.types:
            return True
        if isinstance(v, bool):
            return "bool" in self.types
        if isinstance(v, numbers.Integral) and ("int" in self.types or "float" in self.types):
            return self._in_range(v)
        if isinstance(v, numbers.Real) and "float" in self.types:
            return math.isfinite(v) and self._in_range(v)
        if isinstance(v, str):
            return "str" in self.types and (self.choices is None or v in self.choices)
        if isinstance(v, dict):
            return "dict" in self.types
        if isinstance(v, (list, tuple)) and "seq" in self.types:
            return len(v) > 0 and (self.element is None or all(self.element.accepts(x) for x in v))
        return False

    def _in_range(self, v) -> bool:
        if self.low is not None and (v < self.low or (self.strict and v == self.low)):
            return False
        return self.high is None or v < self.high

    def describe(self) -> str:
        words = []
        for t in ("int", "float", "str", "bool", "dict", "seq"):
            if t not in self.types or (t == "int" and "float" in self.types):
                continue
            if t == "seq":
                inner = self.element.describe_plural() if self.element is not None else "values"
                words.append(f"a non-empty list of {inner}")
            else:
                words.append(
                    f"one of {list(self.choices)}"
                    if t == "str" and self.choices
                    else {
                        "int": "an integer",
                        "float": "a number",
                        "str": "a string",
                        "bool": "True or False",
                        "dict": "a dict",
                    }[t]
                    + self._range()
                )
        return " or ".join(words) or "any value"

    def describe_plural(self) -> str:
        one = self.describe()
        for a, b in (
            ("a non-empty list of", "non-empty lists of"),
            ("an integer", "integers"),
            ("a number", "numbers"),
            ("a string", "strings"),
            ("a dict", "dicts"),
        ):
            if one.startswith(a):
                return b + one[len(a) :]
        return one

    def _range(self) -> str:
        if self.low is not None and self.high is not None:
            return f" in ({self.low:g}, {self.high:g})" if self.strict else f" in [{self.low:g}, {self.high:g})"
        if self.low is not None:
            return f" {'>' if self.strict else '≥'} {self.low:g}"
        return ""


def _bounds(name: str) -> dict:
    """The range a number named `name` (or an element of the list `name`) takes."""
    if "rho" in name:
        return {"low": -1, "strict": True, "high": 1}
    if "sigma2" in name:
        return {"low": 0}
    if re.search(r"(^|_)xis?$", name):
        return {"low": 0, "strict": True}
    return {}


def _int_low(name: str, element: bool) -> int:
    """Seeds are ≥ 0, every other integer (a count, a size, a head count) ≥ 1."""
    single_seed = name == "seed" or name.endswith("_seed")
    return 0 if single_seed or (element and "seed" in name) else 1


def _type_names(annotation) -> set:
    """{'int', 'tuple', 'None', …} from a dataclass field's annotation (a type, a union or a string)."""
    if annotation is None:
        return set()
    if isinstance(annotation, str):
        return {a.strip().split("[")[0] for a in annotation.split("|")}
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set().union(*(_type_names(a) for a in typing.get_args(annotation)))
    if annotation is type(None):
        return {"None"}
    origin = typing.get_origin(annotation)
    return {getattr(origin or annotation, "__name__", str(annotation))}


def _kind_of(name: str, sample, annotation=None, element: bool = False) -> _Kind:
    """The kind of the parameter `name` whose reference value is `sample` (annotated `annotation`)."""
    names = _type_names(annotation)
    if sample is not None and not isinstance(sample, (list, tuple)):
        names.add(type(sample).__name__)
    if isinstance(sample, (list, tuple)):
        names.add("tuple")
    kinds = set()
    for n in names:
        if n in ("int", "float", "str", "bool", "dict"):
            kinds.add(n)
        elif n in ("tuple", "list"):
            kinds.add("seq")
    if not kinds:
        return _Kind(frozenset({"any"}))
    low = {}
    if "float" in kinds:
        low = _bounds(name)
    elif "int" in kinds:
        low = {"low": _int_low(name, element)}
    if "str" in kinds and not element:
        low = {**low, "choices": _choices(name)}
    inner = None
    if "seq" in kinds:
        items = list(sample) if isinstance(sample, (list, tuple)) else []
        if items:
            sub = [_kind_of(name, x, element=True) for x in items]
            types_ = frozenset().union(*(k.types for k in sub))
            nested = next((k.element for k in sub if k.element is not None), None)
            inner = _Kind(types_, nested, **_element_bounds(name, types_))
        elif kinds & {"int", "float", "str"}:  # a number n or the items themselves (e.g. seeds: int | tuple)
            scalars = frozenset(kinds & {"int", "float", "str"})
            inner = _Kind(scalars, **_element_bounds(name, scalars))
    return _Kind(frozenset(kinds), inner, **low)


def _element_bounds(name: str, kinds: frozenset) -> dict:
    if "float" in kinds:
        return _bounds(name)
    if "int" in kinds:
        return {"low": _int_low(name, True)}
    return {}


def _choices(name: str) -> tuple | None:
    """The values a string parameter takes, where the package lists them (TaskConfig's strings)."""
    from ..core import data

    return {"covariance": data.COVARIANCES, "convention": data.CONVENTIONS, "prior": data.PRIORS}.get(name)


_MISSING = object()


def _reference(chapter: str, name: str, profile: str):
    """(value, annotation) the paper's value of `name` has in `chapter` at `profile`: its
    TaskConfig field, else its budget field; (_MISSING, None) when neither exists."""
    from ..core.data import TaskConfig

    fields = {f.name: f for f in dataclasses.fields(TaskConfig)}
    if name in fields:
        return fields[name].default, fields[name].type
    try:
        from .budgets import module_for

        table = module_for(chapter).BUDGETS
    except (ValueError, AttributeError):  # no budgets module (a page, a test's notebook)
        return _MISSING, None
    b = table.get(profile) or next(iter(table.values()))
    f = {f.name: f for f in dataclasses.fields(b)}.get(name)
    return (getattr(b, name), f.type) if f is not None else (_MISSING, None)


def expected_kind(chapter: str, name: str, default, profile: str) -> tuple[_Kind, object]:
    """The kind a value of `name` must have in `chapter`, and the reference value it was read from
    (the default, or the paper's value when the default is None)."""
    ref, annotation = (default, None) if default is not None else _reference(chapter, name, profile)
    if ref is _MISSING:
        return _Kind(frozenset({"any"})), None
    if default is None and ref is None and annotation is None:
        return _Kind(frozenset({"any"})), None
    return _kind_of(name, ref, annotation), ref


def _example(ref) -> str:
    """`ref` as one would type it after -p NAME= (lists in brackets)."""
    if isinstance(ref, (list, tuple)):
        return "[" + ",".join(_example(x) for x in ref) + "]"
    return repr(ref)


def check_value(chapter: str, name: str, value, default=None, profile: str = "quick", help: str = "") -> None:
    """Raise ParameterError unless `value` is a valid value of parameter `name` of `chapter` (default:
    its parameters cell's default; None: the paper's value, looked up at `profile`; help: the cell's
    comment on it, quoted in the message). None always is valid (it means the default)."""
    if value is None:
        return
    kind, ref = expected_kind(chapter, name, default, profile)
    if kind.accepts(value):
        return
    example = f", e.g. {name}={_example(ref)}" if ref is not None else ""
    raise ParameterError(
        f"{chapter}: {name}={value!r} is not valid: {name} must be {kind.describe()}{example}"
        + (f" ({name}: {help})" if help else "")
    )


def check_values(chapter: str, profile: str, params: dict) -> None:
    """`check_value` for each of `params` (their defaults None), for `icl.book.chapter.start`."""
    for k, v in params.items():
        check_value(chapter, k, v, None, profile)


def _listing(params: dict[str, Parameter], indent: str = "  ") -> str:
    return "\n".join(
        f"{indent}{p.name} = {p.default!r}" + (f"  # {p.help}" if p.help else "")
        for p in params.values()
        if p.name not in ALWAYS
    )


def _unknown(name: str, value, lacking: list, accepted: dict, others: list) -> str:
    """The message for `name`, passed to the chapters `lacking` that do not take it."""
    given = f"-p {name}={value!r}"
    if len(lacking) == 1:
        (ch,) = lacking
        close = difflib.get_close_matches(name, [n for n in accepted[ch] if n not in ALWAYS], n=1)
        head = f"{ch} has no parameter {name!r} (given: {given}" + (f"; did you mean {close[0]!r}?)" if close else ")")
        if others:
            head += f", which {', '.join(others)} {'takes' if len(others) == 1 else 'take'}: execute them separately"
        return (
            f"{head}. The parameters of {ch}, with their defaults (None: the paper's value):\n"
            f"{_listing(accepted[ch])}\n(profile and device are set with --profile and --device)"
        )
    lines = [
        f"parameter {name!r} (given: {given}) is not a parameter of {', '.join(lacking)}"
        + (f" (only of {', '.join(others)}): execute those separately" if others else "")
        + ". Their parameters:"
    ]
    for ch in lacking:
        lines.append(
            f"  {ch}: " + ", ".join(f"{p.name}={p.default!r}" for p in accepted[ch].values() if p.name not in ALWAYS)
        )
    return "\n".join(lines)


def check_parameters(
    sources: list[Path], parameters: dict | None, profile: str, *, is_page=lambda s: Path(s).stem.startswith("9")
) -> dict[Path, dict]:
    """The parameters each of `sources` is executed with: `parameters` checked against their
    parameters cells (`declared`), before anything runs. Every chapter (not a book page, 9x_*) must
    take every parameter, and each value must be valid for each chapter (`check_value`); a page is
    passed only those of `parameters` it declares (with only pages selected, each parameter must be
    declared by one of them). profile and device are not in `parameters`: they go to every source.
    Raises ParameterError naming the chapter, the parameter, and what it takes."""
    parameters = dict(parameters or {})
    fixed = [k for k in ALWAYS if k in parameters]
    if fixed:
        raise ParameterError(f"{fixed[0]} is set with --{fixed[0]}, not as a chapter parameter (-p {fixed[0]}=…)")
    if not parameters:
        return {Path(s): {} for s in sources}
    accepted = {Path(s).stem: declared(s) for s in sources}
    chapters = [Path(s).stem for s in sources if not is_page(s)]
    pages = [Path(s).stem for s in sources if is_page(s)]
    errors = []
    for name, value in parameters.items():
        required = chapters or pages
        takers = [c for c in chapters + pages if name in accepted[c]]
        lacking = [c for c in chapters if name not in accepted[c]] if chapters else ([] if takers else pages)
        if lacking:
            errors.append(_unknown(name, value, lacking, accepted, [c for c in takers if c in required]))
            continue
        for c in takers:
            try:
                check_value(c, name, value, accepted[c][name].default, profile, accepted[c][name].help)
            except ParameterError as e:
                errors.append(str(e))
    if errors:
        raise ParameterError("\n".join(errors))
    return {Path(s): {k: v for k, v in parameters.items() if k in accepted[Path(s).stem]} for s in sources}
