"""How numbers are shown to people (CLI tables, evaluation reports, the HTML report).

One rule everywhere: 3-4 significant digits suited to the size, thousands separators for large values and
rates, ``-`` for a value that was not measured (``None``, empty or NaN), and never ``-0``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def format_value(v: Any) -> str:
    """One value as text.

    Examples:
        >>> [format_value(x) for x in (2124781.1439, 0.7676574336246125, 12.3456, -0.0, None, 1.0062)]
        ['2,124,781', '0.768', '12.35', '0', '-', '1.006']
    """
    if v is None or (isinstance(v, str) and v == ""):
        return "-"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return f"{int(v):,}" if abs(int(v)) >= 1000 else str(int(v))
    if not isinstance(v, float | np.floating):
        return str(v)
    v = float(v)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.4g}"
    return f"{v:.3g}"
