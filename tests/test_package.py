"""The package as a whole: what imports without optional dependencies, and the layers."""

import subprocess
import sys


def test_core_imports_without_optional_dependencies():
    code = (
        "import sys\n"
        "for name in ('dask', 'distributed', 'pandas', 'pyarrow'):\n"
        "    sys.modules[name] = None\n"
        "import numpy as np, skdistill, skdistill.datasets\n"
        "X = np.random.default_rng(0).normal(size=(50, 2))\n"
        "d = skdistill.LossMatchingDistiller(n_synthetic=5, random_state=0)\n"
        "d.partial_fit(X, X[:, 0]).fit(X, X[:, 1])\n"
        "print(d.loss_gap_ < 1e-12)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


_LAYERS = [  # lowest first; a module imports only from its own layer or below
    ("_core", ["skdistill._core"]),
    ("_sources", ["skdistill._sources"]),
    (
        "families",
        [
            "skdistill.supervised._family",
            "skdistill.supervised._linear",
            "skdistill.supervised._rbf",
            "skdistill.rl._transitions",
            "skdistill.rl._bellman",
            "skdistill.rl._solvers",
            "skdistill.rl._reweight",
        ],
    ),
    (
        "estimators",
        [
            "skdistill.base",
            "skdistill.supervised",
            "skdistill.rl",
            "skdistill.baselines",
            "skdistill.datasets",
        ],
    ),
    ("package", ["skdistill"]),
    ("_cli", ["skdistill._cli", "skdistill.__main__"]),
]


def _layer(module):
    best = None
    for rank, (_, prefixes) in enumerate(_LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    return best[0]


def _import_graph():
    """``{module: {imported package modules}}``, imports inside functions included."""
    import ast
    from pathlib import Path

    import skdistill

    root = Path(skdistill.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = ("skdistill",) + path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[
                    : len(package.split(".")) - max(node.level - 1, 0)
                ]
                target = ".".join(base + [node.module] if node.module else base)
                if not node.level:
                    target = node.module or ""
                # ``from pkg import sub`` imports the module ``pkg.sub``; ``from mod import
                # name`` imports ``mod``.
                candidates = [
                    f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                    for alias in node.names
                ]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {c for c in candidates if c in modules and c != name}
    return graph


def test_imports_only_point_down_the_layers():
    upward = [
        (module, imported)
        for module, targets in _import_graph().items()
        for imported in targets
        if _layer(imported) > _layer(module)
    ]
    assert upward == []


def test_no_import_cycles():
    graph = _import_graph()
    state = {}

    def visit(module, path):
        state[module] = "open"
        for imported in graph[module]:
            if state.get(imported) == "open":
                raise AssertionError(" -> ".join(path + [module, imported]))
            if imported not in state:
                visit(imported, path + [module])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])
