"""Run the README's Python quick start as written (used by .ci/python-tests.sh).

    python readme_quickstart.py extract README.md OUT.py   # write the ```python block(s) of "Quick start"
    python readme_quickstart.py check CDK_OUT_DIR          # the app synthesized S3 buckets into cdk.out

Standard library only: `extract` runs with any python3, `check` with the test virtualenv's.
"""

import json
import pathlib
import re
import sys

SECTION = "quick start"


def quick_start_blocks(readme: str) -> list[str]:
    """The ```python fenced blocks of the README's "Quick start" section (to the next ## heading)."""
    lines = readme.splitlines()
    start = None
    for i, line in enumerate(lines):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m and m.group(2).strip().lower() == SECTION:
            start, level = i + 1, len(m.group(1))
            break
    if start is None:
        raise SystemExit('readme_quickstart: no "## Quick start" heading in the README')

    blocks: list[str] = []
    fence = None  # (marker, is_python, lines) while inside a fenced block
    for line in lines[start:]:
        if fence is None:
            heading = re.match(r"^(#{1,6})\s", line)
            if heading and len(heading.group(1)) <= level:
                break  # next section
            m = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", line)
            if m:
                fence = (m.group(1), m.group(2).lower() in ("python", "py", "python3"), [])
        elif line.startswith(fence[0]) and line.strip() == fence[0][0] * len(line.strip()):
            if fence[1]:
                blocks.append("\n".join(fence[2]) + "\n")
            fence = None
        else:
            fence[2].append(line)
    if fence is not None:
        raise SystemExit("readme_quickstart: unterminated code fence in the Quick start section")
    return blocks


def extract(readme_path: str, out_path: str) -> None:
    blocks = quick_start_blocks(pathlib.Path(readme_path).read_text(encoding="utf-8"))
    if not blocks:
        raise SystemExit('readme_quickstart: the "Quick start" section has no ```python block')
    pathlib.Path(out_path).write_text("\n".join(blocks), encoding="utf-8")
    print(f"readme_quickstart: {len(blocks)} python block(s), "
          f"{sum(b.count(chr(10)) for b in blocks)} lines -> {out_path}")


def check(cdk_out: str) -> None:
    out = pathlib.Path(cdk_out)
    if not (out / "manifest.json").is_file():
        raise SystemExit(f"readme_quickstart: {out}/manifest.json missing: the app did not synthesize a cloud assembly")
    templates = sorted(out.rglob("*.template.json"))
    if not templates:
        raise SystemExit(f"readme_quickstart: no *.template.json in {out}")
    total = 0
    for path in templates:
        resources = json.loads(path.read_text(encoding="utf-8")).get("Resources", {})
        buckets = sum(1 for r in resources.values() if r.get("Type") == "AWS::S3::Bucket")
        total += buckets
        print(f"readme_quickstart: {path.relative_to(out)}: {len(resources)} resources, {buckets} AWS::S3::Bucket")
    if total == 0:
        raise SystemExit("readme_quickstart: no AWS::S3::Bucket in any synthesized template")


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[0] == "extract":
        extract(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "check":
        check(argv[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
