"""Significance oracle for ir/significance's table tests: p-values of
scipy.stats.ttest_rel and scipy.stats.wilcoxon (defaults: zero_method="wilcox",
no continuity correction, method="auto") on small fixed samples, and the
exact p-value of the two-sided sign-flip test where 2^n is small.

    python significance_cases.py > cases.json

Printed as JSON: [{"name", "a", "b", "t", "wilcoxon", "flip_exact"}].
"""

import itertools
import json
import sys

try:
    import numpy as np
    from scipy import stats
except ImportError as e:
    sys.exit(f"significance_cases.py: {e}: this venv lacks scipy")

CASES = {
    # no ties, no zeros, n <= 50: exact Wilcoxon
    "exact-n8": ([0.9, 0.8, 0.75, 0.6, 0.55, 0.3, 0.2, 0.1], [0.5, 0.85, 0.7, 0.2, 0.65, 0.25, 0.05, 0.12]),
    # ties and zeros with n <= 13: scipy's exhaustive permutation test
    "ties-zeros-n10": ([1, 0.5, 0.5, 0.2, 0.3, 0.0, 1.0, 0.6, 0.25, 0.4], [0.5, 0.5, 0.0, 0.7, 0.3, 0.5, 0.5, 0.1, 0.25, 0.9]),
    # ties and zeros with n > 13: normal approximation with tie correction
    "ties-zeros-n18": ([0, 0, 0, 1, -2, 3, 3, 4, -5, 6, 7, 8, 9, 10, 11, 12, -13, 14], [0] * 18),
    # n > 50: normal approximation
    "n60": ([((i * 37) % 17) / 17 for i in range(60)], [((i * 11) % 13) / 13 for i in range(60)]),
    # one clearly better system
    "shifted-n20": ([i / 20 + 0.05 + (0.01 if i % 3 else -0.02) for i in range(20)], [i / 20 for i in range(20)]),
}


def flip_exact(a, b):
    d = np.asarray(a, float) - np.asarray(b, float)
    obs = abs(d.sum())
    n = len(d)
    if n > 20:
        return None
    hits = 0
    for signs in itertools.product((1, -1), repeat=n):
        if abs((d * signs).sum()) >= obs - 1e-12 * max(1, obs):
            hits += 1
    return hits / 2**n


out = []
for name, (a, b) in CASES.items():
    out.append({
        "name": name, "a": a, "b": b,
        "t": float(stats.ttest_rel(a, b).pvalue),
        "wilcoxon": float(stats.wilcoxon(a, b).pvalue),
        "flip_exact": flip_exact(a, b),
    })
json.dump(out, sys.stdout, indent=1)
print()
