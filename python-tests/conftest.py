"""Fixtures for the Python bindings' tests. Run by .ci/python-tests.sh (`npx projen test:python`)
with the freshly built cdk-secure-mlops wheel installed in .venv-python."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import pytest

from canonical import Synthesized, synth_canonical

TS_TEMPLATE_ENV = "PYTHON_PARITY_TS_TEMPLATE"


@pytest.fixture(scope="session")
def canonical(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The canonical configuration synthesized once through the Python bindings."""
    return synth_canonical(str(tmp_path_factory.mktemp("canonical-cdk.out")))


@pytest.fixture(scope="session")
def canonical_json(canonical: Synthesized) -> dict[str, Any]:
    return canonical.template.to_json()


@pytest.fixture(scope="session")
def ts_template() -> dict[str, Any]:
    """The same configuration synthesized from TypeScript by test/python-parity/emit-template.ts."""
    path = os.environ.get(TS_TEMPLATE_ENV)
    if not path:
        pytest.fail(
            f"{TS_TEMPLATE_ENV} is not set: run `bash .ci/python-tests.sh`, or write the template with "
            "`node_modules/.bin/ts-node --project test/tsconfig.json test/python-parity/emit-template.ts OUT` "
            f"and set {TS_TEMPLATE_ENV}=OUT",
            pytrace=False,
        )
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
