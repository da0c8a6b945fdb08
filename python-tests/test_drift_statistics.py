"""The drift statistics of the model monitor (src/model-monitor/runtime/logic, TypeScript) agree
with SciPy to within 1e-6 (absolute) on randomized inputs: ties, tiny samples (n = 1..5), large
samples (n up to 5,000, and a few above 10,000 where ks_2samp turns asymptotic), constant columns
and very different sample sizes.

The TypeScript side runs once, on every case, through test/model-monitor/scipy-harness.ts
(ts-node --transpile-only, Node 22 from node_modules/.bin). The seed is random unless
DRIFT_STATS_SEED is set; it is printed with the largest absolute error per statistic, and a
failure names it, so a failing draw can be replayed:

    DRIFT_STATS_SEED=1234 .venv-python/bin/python -m pytest python-tests/test_drift_statistics.py

Runs in .ci/python-tests.sh with the rest of python-tests/ (scipy is pinned in requirements.txt).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import time
import warnings
from collections import defaultdict
from typing import Any, Callable

import numpy as np
import pytest
import scipy
from scipy import special, stats
from scipy.spatial import distance

ROOT = pathlib.Path(__file__).resolve().parent.parent
HARNESS = "test/model-monitor/scipy-harness.ts"
TOLERANCE = 1e-6
SEED = int(os.environ.get("DRIFT_STATS_SEED", str(np.random.SeedSequence().entropy % 2**31)))


def _values(rng: np.random.Generator, n: int, kind: str, shift: float = 0.0) -> list[float]:
    """n values of one kind: continuous, heavily tied (a few levels), or constant."""
    if kind == "continuous":
        v = rng.normal(shift, 1.0, n)
    elif kind == "ties":
        v = np.round(rng.normal(shift, 1.5, n))
    elif kind == "coarse":
        v = np.round(rng.normal(shift, 1.0, n), 1)
    elif kind == "constant":
        v = np.full(n, round(shift, 3))
    else:  # heavy tail, with duplicated values
        v = rng.standard_t(2, n) * 10 + shift
        v[: n // 3] = v[0]
    return [float(x) for x in v]


def _ks_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    kinds = ["continuous", "ties", "coarse", "constant", "tail"]
    cases: list[dict[str, Any]] = []
    # tiny samples: every pair of sizes 1..5
    for n1 in range(1, 6):
        for n2 in range(1, 6):
            for _ in range(3):
                k1, k2 = rng.choice(kinds[:3]), rng.choice(kinds[:3])
                cases.append({"op": "ks", "a": _values(rng, n1, k1), "b": _values(rng, n2, k2, rng.uniform(-1, 1))})
    # small and medium, equal and unequal sizes, shifted or not
    for _ in range(120):
        n1 = int(rng.integers(1, 300))
        n2 = n1 if rng.random() < 0.25 else int(rng.integers(1, 300))
        cases.append({
            "op": "ks",
            "a": _values(rng, n1, rng.choice(kinds)),
            "b": _values(rng, n2, rng.choice(kinds), float(rng.choice([0.0, 0.1, 0.5, 2.0]))),
        })
    # large samples (exact method up to 10,000), including equal sizes and very different sizes
    for n1, n2 in [(5000, 5000), (5000, 4999), (4000, 1000), (5000, 3), (2, 5000), (1000, 1000), (3000, 2999), (4096, 1024), (2500, 3750)]:
        cases.append({
            "op": "ks",
            "a": _values(rng, n1, rng.choice(["continuous", "coarse", "ties"])),
            "b": _values(rng, n2, rng.choice(["continuous", "coarse", "ties"]), float(rng.choice([0.0, 0.02, 0.05, 0.3]))),
        })
    # above 10,000: method 'auto' turns asymptotic (the one-sample distribution at round(en))
    for n1, n2 in [(12000, 40), (12000, 150), (10001, 900), (20000, 5000)]:
        cases.append({"op": "ks", "a": _values(rng, n1, "continuous"), "b": _values(rng, n2, "coarse", float(rng.choice([0.0, 0.05, 0.2])))})
    # method 'asymp' forced on small samples covers every branch of kstwo for n <= 140
    for _ in range(60):
        n1, n2 = int(rng.integers(1, 400)), int(rng.integers(1, 400))
        cases.append({"op": "ks", "method": "asymp", "a": _values(rng, n1, "continuous"), "b": _values(rng, n2, "continuous", float(rng.uniform(0, 1.5)))})
    for _ in range(20):
        n1, n2 = int(rng.integers(1, 60)), int(rng.integers(1, 60))
        cases.append({"op": "ks", "method": "exact", "a": _values(rng, n1, "ties"), "b": _values(rng, n2, "ties", float(rng.uniform(0, 1)))})
    # constant columns
    for n1, n2, s in [(50, 50, 0.0), (50, 70, 1.0), (1, 1, 0.0), (800, 20, 0.0), (300, 300, 2.0)]:
        cases.append({"op": "ks", "a": _values(rng, n1, "constant", 0.0), "b": _values(rng, n2, "constant", s)})
        cases.append({"op": "ks", "a": _values(rng, n1, "constant", 0.0), "b": _values(rng, n2, "ties", s)})
    return cases


def _distribution_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    kinds = ["continuous", "ties", "coarse", "constant", "tail"]
    sizes = [1, 2, 3, 5, 17, 200, 1000, 5000]
    for _ in range(80):
        n1, n2 = int(rng.choice(sizes)), int(rng.choice(sizes))
        u = _values(rng, n1, rng.choice(kinds), float(rng.uniform(-2, 2)))
        v = _values(rng, n2, rng.choice(kinds), float(rng.uniform(-2, 2)))
        cases.append({"op": "wasserstein", "u": u, "v": v})
        cases.append({"op": "wasserstein-normed", "reference": u, "current": v})
    # JS and chi-squared over count tables, with zero counts and categories on one side only
    for _ in range(150):
        k = int(rng.integers(1, 12))
        p = rng.integers(0, 50, k).astype(float)
        q = rng.integers(0, 50, k).astype(float)
        p[0] += 1
        q[-1] += 1
        base = [None, 2.0, 10.0][int(rng.integers(0, 3))]
        case: dict[str, Any] = {"op": "js", "p": p.tolist(), "q": q.tolist()}
        if base is not None:
            case["base"] = base
        cases.append(case)
        ref = {f"c{i}": int(c) for i, c in enumerate(rng.integers(0, 400, k)) if c > 0} or {"c0": 3}
        cur = {f"c{i}": int(c) for i, c in enumerate(rng.integers(0, 200, k)) if c > 0} or {"c1": 2}
        if rng.random() < 0.15:  # a category the reference never saw
            cur["new"] = int(rng.integers(1, 5))
        cases.append({"op": "js-categorical", "reference": ref, "current": cur, **({"base": base} if base else {})})
        if set(cur) <= set(ref) or rng.random() < 0.3:
            cases.append({"op": "chi-categorical", "reference": ref, "current": cur})
        observed = rng.integers(0, 300, max(k, 2)).astype(float)
        observed[0] += 1
        weights = rng.random(len(observed)) + 0.01
        expected = weights / weights.sum() * observed.sum()
        cases.append({"op": "chisquare", "observed": observed.tolist(), "expected": expected.tolist()})
    # the special functions on grids that cross every branch
    # (SciPy's smirnov is O(n) per call: fewer points for the largest n keep this test fast)
    for n in list(range(1, 30)) + [50, 99, 100, 139, 140, 141, 200, 500, 1000, 5000, 20000, 100000, 100001, 250000]:
        k = 12 if n <= 5000 else 3
        for d in np.concatenate([rng.uniform(0, 1, k), rng.uniform(0, 3 / math.sqrt(n), k), [0.5 / n, 1 / n, 0.5, 1 - 1 / n]]):
            d = float(min(max(d, 0.0), 1.0))
            cases.append({"op": "kstwo-sf", "n": n, "d": d})
            cases.append({"op": "smirnov", "n": n, "d": d})
    for df in [1, 2, 3, 4, 5, 9, 10, 30, 99, 500]:
        for x in np.concatenate([rng.uniform(0, 2 * df + 10, 10), [0.0, 1e-3, float(df), 1000.0]]):
            cases.append({"op": "chi2-sf", "x": float(x), "df": df})
    for a in [0.5, 1.0, 2.5, 20.0, 150.0]:
        for x in rng.uniform(0, 3 * a + 5, 10):
            cases.append({"op": "gammaincc", "a": a, "x": float(x)})
    return cases


def _scipy(case: dict[str, Any]) -> dict[str, Any]:
    op = case["op"]
    if op == "ks":
        # SciPy warns when the exact p-value fails (a rounding excursion outside [0, 1]) and falls back
        # to the asymptotic one; ours must then report method 'asymp' too.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            r = stats.ks_2samp(case["a"], case["b"], method=case.get("method", "auto"))
        fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
        method = "asymp" if fell_back or case.get("method") == "asymp" or max(len(case["a"]), len(case["b"])) > 10000 else "exact"
        return {"statistic": float(r.statistic), "pValue": float(r.pvalue), "method": method}
    if op == "wasserstein":
        return {"value": float(stats.wasserstein_distance(case["u"], case["v"]))}
    if op == "wasserstein-normed":  # Evidently: norm = max(np.std(reference_data), 0.001)
        ref = np.asarray(case["reference"])
        return {"value": float(stats.wasserstein_distance(ref, case["current"]) / max(np.std(ref), 0.001))}
    if op == "js":
        return {"value": float(distance.jensenshannon(case["p"], case["q"], base=case.get("base")))}
    if op in ("js-categorical", "chi-categorical"):
        ref, cur = case["reference"], case["current"]
        keys = list(ref) + [k for k in cur if k not in ref]
        r = np.array([ref.get(k, 0) for k in keys], dtype=float)
        c = np.array([cur.get(k, 0) for k in keys], dtype=float)
        if op == "js-categorical":
            return {"value": float(distance.jensenshannon(r, c, base=case.get("base")))}
        with np.errstate(divide="ignore", invalid="ignore"):  # a category the reference never saw: inf, p = 0
            res = stats.chisquare(c, r * (c.sum() / r.sum()))
        if len(keys) == 1:  # SciPy: NaN with 0 degrees of freedom; ours: nothing to test, p = 1
            return {"statistic": 0.0, "pValue": 1.0}
        return {"statistic": float(res.statistic), "pValue": float(res.pvalue)}
    if op == "chisquare":
        res = stats.chisquare(case["observed"], case["expected"])
        return {"statistic": float(res.statistic), "pValue": float(res.pvalue)}
    if op == "kstwo-sf":
        return {"value": float(stats.kstwo.sf(case["d"], case["n"]))}
    if op == "smirnov":
        return {"value": float(special.smirnov(case["n"], case["d"]))}
    if op == "chi2-sf":
        return {"value": float(stats.chi2.sf(case["x"], case["df"]))}
    if op == "gammaincc":
        return {"value": float(special.gammaincc(case["a"], case["x"]))}
    raise AssertionError(f"unknown op {op}")


def _run_typescript(cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "ts-node"), "--transpile-only", "--project", "tsconfig.dev.json", HARNESS],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"{HARNESS} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    out = json.loads(proc.stdout)
    return out["results"], float(out["seconds"])


def _label(case: dict[str, Any]) -> str:
    if case["op"] == "ks":
        return f"ks_2samp(method={case.get('method', 'auto')})"
    return {
        "wasserstein": "wasserstein_distance",
        "wasserstein-normed": "wasserstein (normed, Evidently)",
        "js": "jensenshannon",
        "js-categorical": "jensenshannon (categorical)",
        "chisquare": "chisquare",
        "chi-categorical": "chisquare (categorical, Evidently)",
        "kstwo-sf": "kstwo.sf",
        "smirnov": "special.smirnov",
        "chi2-sf": "chi2.sf",
        "gammaincc": "special.gammaincc",
    }[case["op"]]


def _describe(case: dict[str, Any]) -> str:
    sizes = {k: len(v) for k, v in case.items() if isinstance(v, (list, dict))}
    scalars = {k: v for k, v in case.items() if not isinstance(v, (list, dict))}
    return f"{scalars} sizes={sizes}"


def _abs_error(ours: float, theirs: float) -> float:
    if math.isinf(theirs) or math.isinf(ours):
        return 0.0 if ours == theirs else math.inf
    if math.isnan(theirs) or math.isnan(ours):
        return 0.0 if math.isnan(ours) and math.isnan(theirs) else math.inf
    return abs(ours - theirs)


def test_drift_statistics_agree_with_scipy(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    cases = _ks_cases(rng) + _distribution_cases(rng)
    expected = [_scipy(c) for c in cases]
    scipy_seconds = time.perf_counter() - started
    results, ts_seconds = _run_typescript(cases)
    assert len(results) == len(cases)

    worst: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    failures: list[str] = []
    for case, ours, theirs in zip(cases, results, expected):
        label = _label(case)
        counts[label] += 1
        if "error" in ours:
            failures.append(f"{label} {_describe(case)}: TypeScript threw {ours['error']}")
            continue
        for key, value in theirs.items():
            if key == "method":
                exact_expected = case.get("method", "auto") != "asymp" and max(len(case["a"]), len(case["b"])) <= 10000
                counts[f"{label} fell back to asymp"] += value == "asymp" and exact_expected
                if ours[key] != value:
                    failures.append(f"{label} {_describe(case)}: TypeScript used method {ours[key]}, SciPy {value}")
                continue
            err = _abs_error(float(ours[key]), value)
            name = f"{label} {key}"
            worst[name] = max(worst[name], err)
            if not err <= TOLERANCE:
                failures.append(f"{name} {_describe(case)}: TypeScript {ours[key]!r}, SciPy {value!r}, |error| {err:.3g}")

    summary = [f"drift statistics vs SciPy {scipy.__version__} (seed {SEED}, replay with DRIFT_STATS_SEED={SEED}): "
               f"{len(cases)} cases, SciPy {scipy_seconds:.1f}s, TypeScript {ts_seconds:.1f}s; max |error| per statistic:"]
    summary += [f"  {name:<52} {worst[name]:.3g}  ({counts[name.rsplit(' ', 1)[0]]} cases)" for name in sorted(worst)]
    summary += [f"  {name}: {n} case(s)" for name, n in sorted(counts.items()) if name.endswith("fell back to asymp") and n]
    with capsys.disabled():
        print("\n" + "\n".join(summary))
    assert not failures, f"seed {SEED}: {len(failures)} disagreement(s) beyond {TOLERANCE}:\n" + "\n".join(failures[:20])


def test_harness_reports_errors_instead_of_crashing() -> None:
    results, _ = _run_typescript([{"op": "ks", "a": [], "b": [1.0]}, {"op": "wasserstein", "u": [1.0], "v": [2.0]}])
    assert "error" in results[0] and "non-empty" in results[0]["error"]
    assert results[1] == {"value": 1.0}


# Keep the pinned literals in test/model-monitor/statistics.test.ts honest: they were produced by
# these one-liners, and SciPy must still produce them.
PINNED: list[tuple[str, Callable[[], float], float]] = [
    ("ks_2samp([1,2,3,4,5],[2.5,3.5,6,7]).pvalue", lambda: stats.ks_2samp([1, 2, 3, 4, 5], [2.5, 3.5, 6, 7]).pvalue, 0.5634920634920635),
    ("ks_2samp([1,1,2,2,3],[2,3,3,4,4]).pvalue", lambda: stats.ks_2samp([1, 1, 2, 2, 3], [2, 3, 3, 4, 4]).pvalue, 0.35714285714285715),
    ("ks_2samp(0.1*i for 40, 0.1*i+0.35 for 25).pvalue",
     lambda: stats.ks_2samp([0.1 * i for i in range(40)], [0.1 * i + 0.35 for i in range(25)]).pvalue, 0.1013339946846),
    ("ks_2samp(i/12000 for 12000, 0.05+i/50 for 50).pvalue",
     lambda: stats.ks_2samp([i / 12000 for i in range(12000)], [0.05 + i / 50 for i in range(50)]).pvalue, 0.998997611024847),
    ("ks_2samp((7i)%101 for 101, +0.5 for 60, asymp).pvalue",
     lambda: stats.ks_2samp([(i * 7) % 101 for i in range(101)], [(i * 7) % 101 + 0.5 for i in range(60)], method="asymp").pvalue,
     0.9999990183570109),
    ("kstwo.sf(0.05, 500)", lambda: stats.kstwo.sf(0.05, 500), 0.15866260223815387),
    ("kstwo.sf(0.2, 30)", lambda: stats.kstwo.sf(0.2, 30), 0.15796916101547398),
    ("kstwo.sf(0.1, 30)", lambda: stats.kstwo.sf(0.1, 30), 0.8960782680050898),
    ("kstwo.sf(0.6, 10)", lambda: stats.kstwo.sf(0.6, 10), 0.0005681672000000003),
    ("kstwo.sf(0.03, 5000)", lambda: stats.kstwo.sf(0.03, 5000), 0.00024159234422666817),
    ("kstwo.sf(0.01, 200000)", lambda: stats.kstwo.sf(0.01, 200000), 8.433125699870092e-18),
    ("smirnov(20, 0.3)", lambda: special.smirnov(20, 0.3), 0.021533604376327058),
    ("wasserstein_distance([3.4,3.9,7.5,7.8],[4.5,1.4])", lambda: stats.wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4]), 2.7),
    ("jensenshannon([1,2,3],[3,2,1])", lambda: distance.jensenshannon([1, 2, 3], [3, 2, 1]), 0.29531004717204934),
    ("jensenshannon([1,2,3],[3,2,1],base=2)", lambda: distance.jensenshannon([1, 2, 3], [3, 2, 1], base=2), 0.35470351519813204),
    ("chisquare([16,18,16,14,12,12],[16,16,16,16,16,8]).pvalue",
     lambda: stats.chisquare([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]).pvalue, 0.6233876277495822),
    ("chi2.sf(3.84, 1)", lambda: stats.chi2.sf(3.84, 1), 0.05004352124870519),
    ("chi2.sf(10, 1)", lambda: stats.chi2.sf(10, 1), 0.0015654022580025488),
]


@pytest.mark.parametrize("expr,compute,value", PINNED, ids=[p[0] for p in PINNED])
def test_pinned_values_still_hold(expr: str, compute: Callable[[], float], value: float) -> None:
    assert abs(float(compute()) - value) <= 1e-12, expr
