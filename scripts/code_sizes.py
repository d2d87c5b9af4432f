"""Report the code-shape figures issue 10 tracks: largest classes and functions, import cycles, long lines.

Usage: python scripts/code_sizes.py [SRC_DIR]   (default src/simlab); prints one JSON object.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sizes(root: Path) -> dict:
    classes, funcs, long_lines = [], [], 0
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        long_lines += sum(len(line) > 110 for line in text.splitlines())
        tree = ast.parse(text)
        for node in ast.walk(tree):
            n = (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "lineno") else 0
            where = f"{path.relative_to(root.parent)}:{getattr(node, 'name', '')}"
            if isinstance(node, ast.ClassDef):
                classes.append((n, where))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                funcs.append((n, where))
    classes.sort(reverse=True)
    funcs.sort(reverse=True)
    return {
        "largest_classes": classes[:5],
        "largest_functions": funcs[:5],
        "functions_over_60": sum(n > 60 for n, _ in funcs),
        "classes_over_250": sum(n > 250 for n, _ in classes),
        "lines_over_110": long_lines,
    }


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "src/simlab").resolve()
    out = sizes(root)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    try:
        from test_layers import import_cycles  # the same graph the layering test checks (noqa: reads tests/)

        out["import_cycles"] = [list(c) for c in import_cycles(root)]
    except ImportError:
        pass
    print(json.dumps(out, indent=1))
