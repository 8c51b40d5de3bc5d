"""The package's import graph, read from the source: no cycle, every layer importing only those below it."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "icl"


def _module(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, level: int, here: str, is_package: bool, modules: set) -> str | None:
    """The icl module an import names (the longest existing prefix), else None (not icl)."""
    if level:
        base = here.split(".") if is_package else here.split(".")[:-1]
        base = base[: len(base) - (level - 1)]
        name = ".".join(base + ([name] if name else []))
    parts = name.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts) or None


def import_graph() -> dict[str, set[str]]:
    """module → the icl modules it imports, at module level or inside functions."""
    files = {_module(p): p for p in PKG.rglob("*.py")}
    modules = set(files)
    graph = {}
    for mod, path in files.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", node.level, mod, path.name == "__init__.py", modules)
                for a in node.names:  # `from . import theory` names a module
                    sub = _resolve(f"{base}.{a.name}" if base else a.name, 0, mod, False, modules) if base else None
                    deps.add(sub or base)
            elif isinstance(node, ast.Import):
                deps.update(_resolve(a.name, 0, mod, False, modules) for a in node.names)
        graph[mod] = {d for d in deps if d and d != mod and not mod.startswith(d + ".") and d != "icl"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles (module- or function-level imports):\n" + "\n".join(" ↔ ".join(c) for c in found)


# The layers, bottom up: a module imports only its own layer and those below it.
LAYERS = ["icl.arithmetic", "icl.core", "icl.runs", "icl.book", "icl.chapters", "icl.pipeline", "icl.cli"]


def layer(module: str) -> int:
    if module == "icl":
        return len(LAYERS)  # the package's face re-exports from every layer
    return max(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def test_every_module_imports_only_its_own_layer_and_those_below():
    up = [f"{m} → {d}" for m, deps in import_graph().items() for d in deps if layer(d) > layer(m)]
    assert not up, "imports of a higher layer:\n" + "\n".join(sorted(up))


def test_no_chapter_module_imports_another_chapters():
    def chapter(m):
        return m.split(".")[2][:4] if m.startswith("icl.chapters.") else None  # "ch08"

    cross = [
        f"{m} → {d}"
        for m, deps in import_graph().items()
        for d in deps
        if chapter(m) and chapter(d) and chapter(d) != chapter(m)
    ]
    assert not cross, "\n".join(cross)


def test_icl_itself_holds_few_modules():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert top == ["__init__.py", "arithmetic.py", "cli.py"], top


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# Every chapter's public face (icl/chapters/__init__.py says what each piece is).
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(
    p.stem
    for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")
    if (PKG / "chapters" / f"ch{p.stem}").exists() or (PKG / "chapters" / f"ch{p.stem}.py").exists()
)


def test_every_numbered_chapter_has_a_module():
    assert [c[:2] for c in CHAPTERS] == [f"{i:02d}" for i in range(1, 13)], CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_module_has_the_same_public_face(chapter):
    import importlib
    import inspect

    mod = importlib.import_module(f"icl.chapters.ch{chapter}")
    assert inspect.isclass(getattr(mod, "Study", None)), f"ch{chapter} has no class Study"
    assert list(inspect.signature(mod.Study).parameters) == ["ch"], "Study(ch) takes the chapter only"
    for name in ("numbers", "claims"):
        assert callable(getattr(mod, name, None)), f"ch{chapter} has no {name}()"
    assert list(inspect.signature(mod.numbers).parameters) == ["st"], "numbers(st)"
    assert list(inspect.signature(mod.claims).parameters) == ["ch", "st"], "claims(ch, st)"


def _calls(tree, names):
    return [
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in names
    ]


def _shows(tree) -> list[str]:
    """Calls that glue or display: ch.glue/glue_numbers/figure/finish (the chapter's), any .show(),
    and the bare display() and glue() of IPython and myst-nb."""
    out = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Attribute) and (
            f.attr == "show"
            or f.attr in {"glue", "glue_numbers", "figure", "finish"}
            and isinstance(f.value, ast.Name)
            and f.value.id == "ch"
        ):
            out.append(f.attr)
        elif isinstance(f, ast.Name) and f.id in {"display", "glue"}:
            out.append(f.id)
    return out


def test_no_chapter_module_glues_or_shows_anything_itself():
    found = [
        f"{p.relative_to(PKG)}: {c}" for p in (PKG / "chapters").rglob("*.py") for c in _shows(ast.parse(p.read_text()))
    ]
    assert not found, "\n".join(found)


def test_the_show_finder_finds_glue_and_display_but_not_a_matplotlib_figure():
    tree = ast.parse(
        "ch.glue('k', 1)\nch.figure('k', f)\nplt.figure()\nplt.show()\ndisplay(x)\nfig = plt.figure(figsize=(2, 2))"
    )
    assert _shows(tree) == ["glue", "figure", "show", "display"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_notebook_glues_its_numbers_in_one_visible_call(chapter):
    tree = ast.parse(
        "\n".join(
            line
            for line in (NOTEBOOKS / f"{chapter}.py").read_text().splitlines()
            if not line.lstrip().startswith(("%", "!"))
        )
    )
    calls = _calls(tree, {"glue", "glue_numbers"})
    assert calls == ["glue_numbers"], f"{chapter}: {calls}"


def test_no_module_exceeds_600_lines():
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert not long, long
