"""The canonical configuration that both languages synthesize, and the template normalization.

Keep in step with test/python-parity/emit-template.ts: same stack name, env and construct ids.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

from cdk_secure_mlops import SecureDataLake, SecureUploadApi

CANONICAL_STACK_NAME = "PythonParity"
CANONICAL_ENV = Environment(account="111111111111", region="eu-central-1")

ASSET_HASH = re.compile(r"^[0-9a-f]{64}(\.[A-Za-z0-9.]+)?$")


@dataclass
class Synthesized:
    app: App
    stack: Stack
    lake: SecureDataLake
    uploads: SecureUploadApi
    template: Template


def synth_canonical(outdir: str, **upload_props: Any) -> Synthesized:
    """`new SecureDataLake(stack, 'Lake')` and `new SecureUploadApi(stack, 'Uploads', { lake })`."""
    app = App(outdir=outdir)
    stack = Stack(app, CANONICAL_STACK_NAME, env=CANONICAL_ENV)
    lake = SecureDataLake(stack, "Lake")
    uploads = SecureUploadApi(stack, "Uploads", lake=lake, **upload_props)
    return Synthesized(app, stack, lake, uploads, Template.from_stack(stack))


def normalize(template: dict[str, Any]) -> dict[str, Any]:
    """Remove what legitimately differs between a TypeScript and a Python synthesis.

    - `Metadata` (template and resources): `aws:cdk:path`, `aws:asset:*` (asset paths and
      properties), cdk-nag/checkov suppressions. Metadata never reaches a deployed resource.
    - the `CDKMetadata` resource and its `CDKMetadataAvailable` condition (version reporting, which
      names the jsii runtime: Python in one case, none in the other);
    - asset hashes: an `S3Key` (Lambda code, nested templates) that is `<sha256>.<ext>`, and
      legacy `AssetParameters*` parameters (and references to them).
    Everything else, logical ids included, must be identical.
    """
    t = copy.deepcopy(template)
    t.pop("Metadata", None)
    resources = t.get("Resources", {})
    resources.pop("CDKMetadata", None)
    conditions = t.get("Conditions")
    if conditions is not None:
        conditions.pop("CDKMetadataAvailable", None)
        if not conditions:
            t.pop("Conditions")
    for resource in resources.values():
        resource.pop("Metadata", None)
    parameters = t.get("Parameters")
    if parameters is not None:
        for name in [p for p in parameters if p.startswith("AssetParameters")]:
            parameters.pop(name)
    return _normalize_values(t)


def _normalize_values(node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Ref"} and isinstance(node["Ref"], str) and node["Ref"].startswith("AssetParameters"):
            return {"Ref": "<asset-parameter>"}
        out = {}
        for key, value in node.items():
            if key == "S3Key" and isinstance(value, str) and ASSET_HASH.match(value):
                out[key] = "<asset-hash>" + (ASSET_HASH.match(value).group(1) or "")
            else:
                out[key] = _normalize_values(value)
        return out
    if isinstance(node, list):
        return [_normalize_values(v) for v in node]
    return node
