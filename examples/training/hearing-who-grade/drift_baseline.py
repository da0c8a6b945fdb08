#!/usr/bin/env python3
"""The drift baseline of a trained model (schema version 1), in pure Python (standard library only).

A port of `computeBaseline` (src/model-monitor/runtime/logic/baseline.ts in cdk-secure-mlops): for
the same input and options it returns the same document, and `dumps` writes it byte for byte as
`JSON.stringify` does. The library's TypeScript reads it back (`parseBaseline`: the drift job
compares captured predictions with it), so the two must agree exactly; the parity test
(test/gpu-training-job/drift-baseline-parity.test.ts) runs both on randomized inputs.

What it computes, from the reference feature vectors (the training split, as the model sees them)
and the model's predicted classes (on the validation split, with the true classes for the baseline
accuracy):
  per feature   count, missing (None, non-finite, or not a number / string), distinct values;
                numeric features: mean and population standard deviation (ddof = 0, compensated
                sums), min, max, quantiles (linear interpolation, NumPy's default), a histogram
                over `histogram_bins` equal-width bins from min to max (the last bin closed; one
                bin [c, c] for a constant), and a reservoir sample of at most `sample_size` values
                (Vitter's Algorithm R driven by xoshiro128** seeded through splitmix32: the same
                32-bit generator as the TypeScript, one per feature), ascending; the frequency table
                of numeric features with at most `category_limit` distinct values, and of every
                categorical feature (values compared as JavaScript strings: 1.0 is "1", 1e21 is
                "1e+21")
  prediction    the frequency table of predicted classes (most frequent first, ties in order of
                first appearance); with true classes: the labeled count and the accuracy

Exact and deterministic: IEEE-754 doubles in the same order of operations as the TypeScript, 32-bit
integer arithmetic masked, JavaScript's number-to-string conversion for keys and JSON.

As a program it reads JSON Lines on stdin, one case per line:
  {"input": {"modelSha256", "features": [{"name", "kind"?}], "rows", "predictions", "trueClasses"?},
   "options": {"sampleSize"?, "seed"?, "histogramBins"?, "quantiles"?, "categoryLimit"?}}
and writes one line per case: the baseline document, or {"error": "<message>"} (a case
{"random": {"seed", "draws"}} gets the generator's draws instead, for the parity test).
"""
import bisect
import json
import math
import re
import sys

SCHEMA_VERSION = 1
DEFAULT_SAMPLE_SIZE = 1000
DEFAULT_SEED = 1
DEFAULT_HISTOGRAM_BINS = 10
DEFAULT_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
DEFAULT_CATEGORY_LIMIT = 20

_U32 = 0xFFFFFFFF
_SHA256 = re.compile(r'[0-9a-f]{64}')
_GOLDEN = 0x9E3779B1


MAX_MAGNITUDE = 1e150
"""The largest magnitude of a numeric feature value compute_baseline accepts."""


class BaselineError(ValueError):
    """Invalid input or options (the message says which; it never quotes a feature value)."""


# ---------------------------------------------------------------------------------------------
# The generator and the sum: exact ports of random.ts and special.ts (CompensatedSum)


def _imul(a, b):
    """Math.imul(a, b) >>> 0 for unsigned 32-bit a and b."""
    return (a * b) & _U32


class SeededRandom:
    """xoshiro128** seeded through splitmix32 (SeededRandom of random.ts): the same sequence."""

    def __init__(self, seed):
        x = int(seed) & _U32
        s = [0, 0, 0, 0]
        for i in range(4):
            x = (x + 0x9E3779B9) & _U32
            z = x
            z = _imul(z ^ (z >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            s[i] = (z ^ (z >> 16)) & _U32
        if not any(s):
            s[0] = 1
        self._s = tuple(s)

    def next_uint32(self):
        # Math.imul and rotl inlined (masked to 32 bits): the hot loop of the reservoir
        s0, s1, s2, s3 = self._s
        x = (s1 * 5) & _U32
        result = ((((x << 7) | (x >> 25)) & _U32) * 9) & _U32
        t = (s1 << 9) & _U32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 11) | (s3 >> 21)) & _U32
        self._s = (s0, s1, s2, s3)
        return result

    def next(self):
        """A uniform number in [0, 1) with 53 random bits."""
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def int(self, n):
        """A uniform integer in [0, n)."""
        return math.floor(self.next() * n)


def compensated_sum(values):
    """Neumaier's compensated sum of the values in order (CompensatedSum of special.ts: add each, then value)."""
    total = 0.0
    compensation = 0.0
    for v in values:
        t = total + v
        if abs(total) >= abs(v):
            compensation += (total - t) + v
        else:
            compensation += (v - t) + total
        total = t
    return total + compensation


# ---------------------------------------------------------------------------------------------
# JavaScript's number-to-string and JSON.stringify


def js_number(x):
    """`String(x)` of a JavaScript number (Number::toString, radix 10)."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) < 2 ** 53:
        return str(x)
    x = float(x)
    if x != x:
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    if x == 0:
        return '0'  # -0 too
    sign = '-' if x < 0 else ''
    # repr is the shortest round-tripping decimal, nearest to the value: the digits JavaScript uses
    mantissa, _, exponent = repr(abs(x)).partition('e')
    whole, _, fraction = mantissa.partition('.')
    significant = (whole + fraction).lstrip('0')
    # the value is 0.<digits> × 10^n (ECMA-262 Number::toString's n)
    n = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(significant))
    digits = significant.rstrip('0')
    k = len(digits)
    if k <= n <= 21:
        text = digits + '0' * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + '.' + digits[n:]
    elif -6 < n <= 0:
        text = '0.' + '0' * -n + digits
    else:
        e = n - 1
        text = digits[0] + ('.' + digits[1:] if k > 1 else '') + 'e' + ('+' if e >= 0 else '-') + str(abs(e))
    return sign + text


_ESCAPES = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}


def _js_string(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif c < 0x20 or 0xD800 <= c <= 0xDFFF:  # control characters; lone surrogates (well-formed JSON.stringify)
            out.append('\\u%04x' % c)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def dumps(value):
    """`JSON.stringify(value)` of a document of dicts, lists, strings, numbers, booleans and None."""
    parts = []

    def write(v):
        if v is None:
            parts.append('null')
        elif v is True:
            parts.append('true')
        elif v is False:
            parts.append('false')
        elif isinstance(v, str):
            parts.append(_js_string(v))
        elif isinstance(v, (int, float)):
            parts.append(js_number(v) if math.isfinite(v) else 'null')
        elif isinstance(v, dict):
            parts.append('{')
            for i, (k, item) in enumerate(v.items()):
                if i:
                    parts.append(',')
                parts.append(_js_string(k))
                parts.append(':')
                write(item)
            parts.append('}')
        elif isinstance(v, (list, tuple)):
            parts.append('[')
            for i, item in enumerate(v):
                if i:
                    parts.append(',')
                write(item)
            parts.append(']')
        else:
            raise TypeError(f'dumps: cannot write a {type(v).__name__}')

    write(value)
    return ''.join(parts)


# ---------------------------------------------------------------------------------------------
# The baseline


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def numeric_value(v):
    """The value of a numeric feature as a float, or None when missing (None, non-finite, not a number)."""
    if type(v) is float:  # the common case, first
        return v if math.isfinite(v) else None
    if _is_number(v):
        f = float(v)
        if math.isfinite(f):
            return f
    return None


def category_key(v):
    """The category key of a value (a string, or a finite number as JavaScript writes it), or None when missing."""
    if isinstance(v, str):
        return v
    f = numeric_value(v)
    return None if f is None else js_number(f)


def frequency_table(keys):
    """Counts per distinct key, most frequent first (ties: in order of first appearance)."""
    counts = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return [{'value': value, 'count': count} for value, count in sorted(counts.items(), key=lambda e: -e[1])]


def bin_edges(lo, hi, bins):
    if lo == hi:
        return [lo, hi]
    return [lo + ((hi - lo) * i) / bins for i in range(bins)] + [hi]


def histogram_counts(values, edges):
    bins = len(edges) - 1
    counts = [0] * bins
    last = edges[bins]
    for v in values:
        if v < edges[0] or v > last:
            continue
        lo, hi = 0, bins - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if edges[mid] <= v:
                lo = mid
            else:
                hi = mid - 1
        counts[lo] += 1
    return counts


def quantile_sorted(values, level):
    n = len(values)
    if n == 0:
        return math.nan
    h = (n - 1) * level
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    a = values[lo]
    b = values[hi]
    return a + (h - lo) * (b - a)


def _check_integer(name, value, lo, hi):
    ok = _is_number(value) and math.isfinite(value) and float(value).is_integer() and lo <= value <= hi
    if not ok:
        shown = js_number(value) if _is_number(value) else repr(value)
        raise BaselineError(f'computeBaseline: {name} must be an integer from {lo} to {hi}, got {shown}')
    return int(value)


def _check_features(features):
    if len(features) == 0:
        raise BaselineError('computeBaseline: at least one feature is required')
    seen = set()
    specs = []
    for i, f in enumerate(features):
        name = f.get('name') if isinstance(f, dict) else None
        if not isinstance(name, str) or len(name) == 0:
            raise BaselineError(f'computeBaseline: feature {i} needs a non-empty name')
        if name in seen:
            raise BaselineError(f'computeBaseline: feature {i} repeats the name of an earlier feature; names must be unique')
        kind = f.get('kind')
        if kind is not None and kind not in ('numeric', 'categorical'):
            shown = dumps(kind) if isinstance(kind, (str, int, float)) else repr(kind)
            raise BaselineError(f"computeBaseline: feature {i} has kind {shown}; use 'numeric' or 'categorical'")
        seen.add(name)
        specs.append((name, kind or 'numeric'))
    return specs


def compute_baseline(model_sha256, features, rows, predictions, true_classes=None, sample_size=DEFAULT_SAMPLE_SIZE,
                     seed=DEFAULT_SEED, histogram_bins=DEFAULT_HISTOGRAM_BINS, quantiles=DEFAULT_QUANTILES,
                     category_limit=DEFAULT_CATEGORY_LIMIT):
    """The baseline document (a dict in the key order of the TypeScript's), like `computeBaseline`.

    features: [{'name': str, 'kind': 'numeric' | 'categorical' (default numeric)}], in row order.
    rows: the reference feature vectors, one value per feature (a Python int or float, a string, or
    None; anything else, a NumPy float32 included, counts as missing: convert arrays with .tolist()).
    predictions: predicted class labels (strings or finite numbers); true_classes: aligned with
    them (None where unknown), or None for no accuracy. Raises BaselineError on invalid input.
    """
    sample_size = _check_integer('sampleSize', sample_size, 1, 1_000_000)
    bins = _check_integer('histogramBins', histogram_bins, 1, 1000)
    category_limit = _check_integer('categoryLimit', category_limit, 0, 100_000)
    seed = _check_integer('seed', seed, 0, 2 ** 32 - 1)
    levels = list(quantiles)
    if not all(_is_number(q) and 0 <= q <= 1 for q in levels):
        shown = ', '.join(js_number(q) if _is_number(q) else str(q) for q in levels)
        raise BaselineError(f'computeBaseline: quantile levels must lie in [0, 1], got [{shown}]')
    if not isinstance(model_sha256, str) or not _SHA256.fullmatch(model_sha256):
        raise BaselineError('computeBaseline: modelSha256 must be 64 lower-case hex digits')
    specs = _check_features(features)
    width = len(specs)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise BaselineError(f'computeBaseline: row {i} has {len(row)} values, expected {width} (one per feature)')

    out = []
    for f, (name, kind) in enumerate(specs):
        # a generator per feature, so adding a feature does not change the others' samples
        random = SeededRandom((seed + (f + 1) * _GOLDEN) % 2 ** 32)
        if kind == 'numeric':
            out.append(_numeric(name, rows, f, sample_size, random, bins, levels, category_limit))
        else:
            out.append(_categorical(name, rows, f))
    return {
        'schemaVersion': SCHEMA_VERSION,
        'modelSha256': model_sha256,
        'rowCount': len(rows),
        'sampling': {'method': 'reservoir', 'maxSize': sample_size, 'seed': seed, 'categoryLimit': category_limit},
        'features': out,
        'prediction': _prediction(predictions, true_classes),
    }


def _sort_like_float64_array(values):
    """Ascending, -0 before +0 (Float64Array#sort; sorted() keeps equal zeros in input order)."""
    ordered = sorted(values)
    lo = bisect.bisect_left(ordered, 0.0)
    hi = bisect.bisect_right(ordered, 0.0)
    if hi - lo > 1:
        zeros = ordered[lo:hi]
        ordered[lo:hi] = [z for z in zeros if math.copysign(1.0, z) < 0] + [z for z in zeros if math.copysign(1.0, z) > 0]
    return ordered


def _numeric(name, rows, f, sample_size, random, bins, levels, category_limit):
    values = []
    reservoir = []
    missing = 0
    for row in rows:
        v = numeric_value(row[f])
        if v is None:
            missing += 1
            continue
        # Algorithm R: the i-th value (0-based) replaces a random slot with probability k / (i + 1)
        if len(reservoir) < sample_size:
            reservoir.append(v)
        else:
            j = random.int(len(values) + 1)
            if j < sample_size:
                reservoir[j] = v
        values.append(v)
    count = len(values)
    ordered = _sort_like_float64_array(values)
    distinct = sum(1 for i in range(count) if i == 0 or ordered[i] != ordered[i - 1])
    feature = {'name': name, 'kind': 'numeric', 'count': count, 'missing': missing, 'distinct': distinct}
    if count == 0:
        return feature
    # Beyond this magnitude the squared deviations overflow (the TypeScript refuses the same input)
    if max(-ordered[0], ordered[-1]) > MAX_MAGNITUDE:
        raise BaselineError(f'computeBaseline: feature {f} has a value of magnitude above 1e150: its variance would overflow (scale the feature)')
    mean = compensated_sum(ordered) / count
    # V8's (v - mean) ** 2 is (v - mean) * (v - mean) (fdlibm's pow special case); Python's ** raises on overflow
    squares = compensated_sum([(v - mean) * (v - mean) for v in ordered])
    lo, hi = ordered[0], ordered[-1]
    edges = bin_edges(lo, hi, bins)
    feature['numeric'] = {
        'mean': mean,
        'std': math.sqrt(squares / count),
        'min': lo,
        'max': hi,
        'quantiles': [{'level': level, 'value': quantile_sorted(ordered, level)} for level in levels],
        'histogram': {'edges': edges, 'counts': histogram_counts(ordered, edges)},
        'sample': sorted(reservoir),
    }
    if distinct <= category_limit:
        feature['categories'] = frequency_table(js_number(v) for v in values)
    return feature


def _categorical(name, rows, f):
    keys = []
    missing = 0
    for row in rows:
        k = category_key(row[f])
        if k is None:
            missing += 1
        else:
            keys.append(k)
    categories = frequency_table(keys)
    return {'name': name, 'kind': 'categorical', 'count': len(keys), 'missing': missing, 'distinct': len(categories),
            'categories': categories}


def _prediction(predictions, true_classes):
    keys = []
    for i, p in enumerate(predictions):
        k = category_key(p)
        if k is None:
            raise BaselineError(f'computeBaseline: prediction {i} is not a class label (a string or a finite number)')
        keys.append(k)
    base = {'count': len(keys), 'categories': frequency_table(keys)}
    if true_classes is None:
        return base
    if len(true_classes) != len(predictions):
        raise BaselineError(f'computeBaseline: trueClasses has {len(true_classes)} entries, predictions {len(predictions)}; '
                            'they must be aligned')
    labeled = correct = 0
    for i, t in enumerate(true_classes):
        k = category_key(t)
        if k is None:
            continue
        labeled += 1
        if k == keys[i]:
            correct += 1
    base['labeled'] = labeled
    if labeled > 0:
        base['accuracy'] = correct / labeled
    return base


# ---------------------------------------------------------------------------------------------
# JSON Lines in, JSON Lines out


_OPTIONS = {'sampleSize': 'sample_size', 'seed': 'seed', 'histogramBins': 'histogram_bins', 'quantiles': 'quantiles',
            'categoryLimit': 'category_limit'}


def compute_case(case):
    """A case as the TypeScript takes it ({"input": BaselineInput, "options": BaselineOptions}) → the document.

    {"random": {"seed": s, "draws": n}} → the generator's first n `next_uint32` and, from a second
    generator of the same seed, its first n `next` (the parity test compares them with SeededRandom).
    """
    if 'random' in case:
        seed, draws = case['random']['seed'], case['random']['draws']
        bits, uniform = SeededRandom(seed), SeededRandom(seed)
        return {'uint32': [bits.next_uint32() for _ in range(draws)], 'next': [uniform.next() for _ in range(draws)]}
    data = case['input']
    options = {_OPTIONS[k]: v for k, v in (case.get('options') or {}).items() if k in _OPTIONS and v is not None}
    return compute_baseline(data['modelSha256'], data['features'], data['rows'], data['predictions'],
                            data.get('trueClasses'), **options)


def main(stdin, stdout):
    for line in stdin:
        if not line.strip():
            continue
        try:
            result = dumps(compute_case(json.loads(line)))
        except BaselineError as e:
            result = dumps({'error': str(e)})
        stdout.write(result + '\n')
    stdout.flush()
    return 0


if __name__ == '__main__':
    for stream in (sys.stdin, sys.stdout):
        stream.reconfigure(encoding='utf-8')
    sys.exit(main(sys.stdin, sys.stdout))
