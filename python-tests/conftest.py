"""Fixtures for the Python bindings' tests. Run by .ci/python-tests.sh (`npx projen test:python`)
with the freshly built cdk-secure-mlops wheel installed in .venv-python."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import pytest

from canonical import REFERENCE_TEMPLATE_FILE, Synthesized, SynthesizedReference, synth_canonical, synth_reference

TS_TEMPLATE_ENV = "PYTHON_PARITY_TS_TEMPLATE"
TS_REFERENCE_TEMPLATE_ENV = "PYTHON_PARITY_TS_REFERENCE_TEMPLATE"

_reference_synth_seconds: list[float] = []


@pytest.fixture(scope="session")
def canonical(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The canonical configuration synthesized once through the Python bindings."""
    return synth_canonical(str(tmp_path_factory.mktemp("canonical-cdk.out")))


@pytest.fixture(scope="session")
def canonical_json(canonical: Synthesized) -> dict[str, Any]:
    return canonical.template.to_json()


def _ts_template_path() -> pathlib.Path:
    path = os.environ.get(TS_TEMPLATE_ENV)
    if not path:
        pytest.fail(
            f"{TS_TEMPLATE_ENV} is not set: run `bash .ci/python-tests.sh`, or write the templates with "
            "`node_modules/.bin/ts-node --project tsconfig.dev.json test/python-parity/emit-template.ts OUT` "
            f"and set {TS_TEMPLATE_ENV}=OUT",
            pytrace=False,
        )
    return pathlib.Path(path)


@pytest.fixture(scope="session")
def ts_template() -> dict[str, Any]:
    """The same configuration synthesized from TypeScript by test/python-parity/emit-template.ts."""
    return json.loads(_ts_template_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedReference:
    """The reference app (reference_app.py) synthesized once through the Python bindings."""
    synthesized = synth_reference(str(tmp_path_factory.mktemp("reference-cdk.out")))
    _reference_synth_seconds.append(synthesized.seconds)
    return synthesized


@pytest.fixture(scope="session")
def reference_json(reference: SynthesizedReference) -> dict[str, Any]:
    return reference.template.to_json()


@pytest.fixture(scope="session")
def ts_reference_template() -> dict[str, Any]:
    """`ReferenceAppStack` of examples/reference-app/app.ts, synthesized by emit-template.ts: the
    file named by PYTHON_PARITY_TS_REFERENCE_TEMPLATE, else REFERENCE_TEMPLATE_FILE next to the
    canonical TypeScript template."""
    override = os.environ.get(TS_REFERENCE_TEMPLATE_ENV)
    path = pathlib.Path(override) if override else _ts_template_path().with_name(REFERENCE_TEMPLATE_FILE)
    if not path.is_file():
        pytest.fail(f"{path} missing: test/python-parity/emit-template.ts writes it", pytrace=False)
    return json.loads(path.read_text(encoding="utf-8"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for seconds in _reference_synth_seconds:
        terminalreporter.write_line(f"reference app: Python synth (construct + app.synth() through jsii) took {seconds:.1f}s")
