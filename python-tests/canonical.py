"""The configurations that both languages synthesize, and the template normalization.

- the canonical configuration (SecureDataLake + SecureUploadApi), `synth_canonical`;
- the reference app (reference_app.py, the port of examples/reference-app/app.ts), `synth_reference`.

Keep in step with test/python-parity/emit-template.ts: same stack names, env, context and
construct ids.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

from cdk_secure_mlops import SecureDataLake, SecureUploadApi

if TYPE_CHECKING:
    from reference_app import ReferenceAppStack

CANONICAL_STACK_NAME = "PythonParity"
CANONICAL_ENV = Environment(account="111111111111", region="eu-central-1")

REFERENCE_STACK_NAME = "HearingTestApp"
"""The reference app's stack (env: CANONICAL_ENV), as examples/reference-app/main.ts names it."""
REFERENCE_TEMPLATE_FILE = "ReferenceApp.template.json"
"""emit-template.ts writes the reference app's template under this name next to the canonical one."""

ASSET_HASH = re.compile(r"^[0-9a-f]{64}(\.[A-Za-z0-9.]+)?$")
# The tag of a Docker image asset in the bootstrap ECR repository (TrainingImage.fromAsset), inside
# a string such as a Step Functions definition or an Fn::Sub.
CONTAINER_ASSET_TAG = re.compile(r"(cdk-[a-z0-9]+-container-assets-[0-9a-z-]+:)[0-9a-f]{64}")


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


@dataclass
class SynthesizedReference:
    app: App
    stack: ReferenceAppStack
    template: Template
    assembly_dir: str
    seconds: float
    """Wall time of the construction and `app.synth()` through the jsii runtime."""


def synth_reference(outdir: str) -> SynthesizedReference:
    """`new ReferenceAppStack(app, 'HearingTestApp', { env })`, synthesized into `outdir`."""
    from reference_app import ReferenceAppStack  # here: a broken port fails its own tests only

    started = time.perf_counter()
    app = App(outdir=outdir)
    stack = ReferenceAppStack(app, REFERENCE_STACK_NAME, env=CANONICAL_ENV)
    assembly = app.synth()
    seconds = time.perf_counter() - started
    return SynthesizedReference(app, stack, Template.from_stack(stack), assembly.directory, seconds)


def asset_hashes(template: dict[str, Any]) -> dict[str, list[str]]:
    """The asset hashes a template refers to, by kind, sorted: `file` (S3 keys) and `image` (ECR tags)."""
    files: set[str] = set()
    images: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "S3Key" and isinstance(value, str) and ASSET_HASH.match(value):
                    files.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            images.update(m.group(0).rsplit(":", 1)[1] for m in CONTAINER_ASSET_TAG.finditer(node))

    walk(template.get("Resources", {}))
    return {"file": sorted(files), "image": sorted(images)}


def normalize(template: dict[str, Any]) -> dict[str, Any]:
    """Remove what legitimately differs between a TypeScript and a Python synthesis.

    - `Metadata` (template and resources): `aws:cdk:path`, `aws:asset:*` (asset paths and
      properties), cdk-nag/checkov suppressions. Metadata never reaches a deployed resource.
    - the `CDKMetadata` resource and its `CDKMetadataAvailable` condition (version reporting, which
      names the jsii runtime: Python in one case, none in the other);
    - asset hashes: an `S3Key` (Lambda code, nested templates) that is `<sha256>.<ext>`, the tag
      of a Docker image asset in the bootstrap ECR repository (`...container-assets-...:<sha256>`,
      in any string), and legacy `AssetParameters*` parameters (and references to them).
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
    if isinstance(node, str):
        return CONTAINER_ASSET_TAG.sub(r"\1<asset-hash>", node)
    return node
