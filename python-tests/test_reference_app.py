"""The reference app in Python (reference_app.py), synthesized through the built wheel.

- it synthesizes a cloud assembly from the installed `cdk_secure_mlops` wheel, with its assets
  staged (the labeling handlers from the package's assets/, the Docker context of the training
  image, the model endpoint's Lambda package with onnxruntime-node for linux/x64 and the model);
- its template has the same resources as `ReferenceAppStack` of examples/reference-app/app.ts
  (test/python-parity/emit-template.ts): same logical ids and types, the same properties once
  metadata and asset hashes are normalized (canonical.normalize), and the same asset hashes too;
- a few security properties, asserted from Python.
"""

from __future__ import annotations

import collections
import hashlib
import json
import pathlib
from typing import Any

import pytest
from aws_cdk.assertions import Match

import cdk_secure_mlops
from canonical import REFERENCE_STACK_NAME, SynthesizedReference, asset_hashes, normalize
from reference_app import LABELING, MODEL, MODEL_DIR, TRAINING_DIR


# --- helpers ------------------------------------------------------------------------------------

def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def type_counts(template: dict[str, Any]) -> dict[str, int]:
    return dict(sorted(collections.Counter(
        r["Type"] for k, r in template["Resources"].items() if k != "CDKMetadata").items()))


def kms_key_arn_ids(template: dict[str, Any]) -> set[str]:
    """`{"Fn::GetAtt": [<id>, "Arn"]}` targets that are customer-managed keys of this stack."""
    return set(resources_of(template, "AWS::KMS::Key"))


def is_cmk_arn(template: dict[str, Any], value: Any) -> bool:
    return (isinstance(value, dict) and list(value) == ["Fn::GetAtt"]
            and value["Fn::GetAtt"][1] == "Arn" and value["Fn::GetAtt"][0] in kms_key_arn_ids(template))


def state_machine_definition(resource: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The ASL of a state machine whose DefinitionString is an Fn::Join; each intrinsic becomes
    the string `@@<n>@@`, with n its index in the returned list."""
    definition = resource["Properties"]["DefinitionString"]
    if isinstance(definition, str):
        return json.loads(definition), []
    separator, parts = definition["Fn::Join"]
    assert separator == ""
    tokens: list[Any] = []
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            text += f"@@{len(tokens)}@@"
            tokens.append(part)
    return json.loads(text), tokens


def all_states(states: dict[str, Any]):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from all_states(processor["States"])


def staged_asset_dir(reference: SynthesizedReference, function: dict[str, Any]) -> pathlib.Path:
    """Where a Lambda function's zip asset is staged in the cloud assembly (from the assets manifest:
    without the CLI, templates carry no aws:asset:path metadata)."""
    out = pathlib.Path(reference.assembly_dir)
    manifest = json.loads((out / f"{REFERENCE_STACK_NAME}.assets.json").read_text(encoding="utf-8"))
    asset_hash = function["Properties"]["Code"]["S3Key"].split(".", 1)[0]
    source = manifest["files"][asset_hash]["source"]
    assert source["packaging"] == "zip", source
    return out / source["path"]


# --- (1) it synthesizes from the wheel -------------------------------------------------------------

def test_the_library_is_the_installed_wheel_not_the_source_tree() -> None:
    module = pathlib.Path(cdk_secure_mlops.__file__).resolve()
    assert "site-packages" in module.parts, f"cdk_secure_mlops imported from {module}, not from the installed wheel"


def test_reference_app_synthesizes_a_cloud_assembly(reference: SynthesizedReference, reference_json: dict[str, Any]) -> None:
    out = pathlib.Path(reference.assembly_dir)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["artifacts"][REFERENCE_STACK_NAME]["type"] == "aws:cloudformation:stack"
    on_disk = json.loads((out / f"{REFERENCE_STACK_NAME}.template.json").read_text(encoding="utf-8"))
    assert on_disk["Resources"].keys() == reference_json["Resources"].keys()
    assert len(reference_json["Resources"]) >= 100
    counts = type_counts(reference_json)
    for resource_type in ("AWS::S3::Bucket", "AWS::ApiGateway::RestApi", "AWS::Lambda::Function",
                          "AWS::StepFunctions::StateMachine", "AWS::SageMaker::ModelPackageGroup",
                          "AWS::CodeDeploy::DeploymentGroup", "AWS::CloudWatch::Dashboard", "AWS::CloudTrail::Trail"):
        assert counts.get(resource_type, 0) >= 1, f"no {resource_type} in {counts}"


def test_every_lambda_code_asset_is_staged_with_an_entry_point(reference: SynthesizedReference,
                                                               reference_json: dict[str, Any]) -> None:
    # The handlers come from the wheel's bundled copy of the package's assets/ (`npx projen bundle`).
    functions = resources_of(reference_json, "AWS::Lambda::Function")
    assert functions
    for function_id, function in functions.items():
        staged = staged_asset_dir(reference, function)
        assert staged.is_dir(), f"{function_id}: {staged} not staged"
        assert any((staged / name).is_file() for name in ("index.js", "index.mjs")), \
            f"{function_id}: no index.js in {sorted(p.name for p in staged.iterdir())}"


def test_model_endpoint_package_has_onnxruntime_for_linux_x64_and_the_model(reference: SynthesizedReference) -> None:
    # Packaged at synth by the library running in the jsii kernel's node process.
    function = reference.stack.resolve(reference.stack.endpoint.handler.node.default_child.logical_id)
    staged = staged_asset_dir(reference, reference.template.to_json()["Resources"][function])
    binding = staged / "node_modules" / "onnxruntime-node" / "bin" / "napi-v6" / "linux" / "x64" / "onnxruntime_binding.node"
    assert binding.is_file(), f"{binding} missing"
    platforms = {p.name for p in (staged / "node_modules" / "onnxruntime-node" / "bin" / "napi-v6").iterdir()}
    assert platforms == {"linux"}, f"only linux belongs in the package: {platforms}"
    assert (staged / "node_modules" / "onnxruntime-common" / "package.json").is_file()
    model = staged / "model" / "model.onnx"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == MODEL["sha256"]
    assert model.read_bytes() == (MODEL_DIR / MODEL["file"]).read_bytes()


def test_training_image_docker_context_is_staged(reference: SynthesizedReference) -> None:
    manifest = json.loads((pathlib.Path(reference.assembly_dir) / f"{REFERENCE_STACK_NAME}.assets.json").read_text(encoding="utf-8"))
    images = manifest.get("dockerImages", {})
    assert len(images) == 1, f"one Docker image asset expected: {list(images)}"
    source = next(iter(images.values()))["source"]
    context = pathlib.Path(reference.assembly_dir) / source["directory"]
    for name in ("Dockerfile", "train.py", "requirements.txt"):
        assert (context / name).read_bytes() == (TRAINING_DIR / name).read_bytes(), name


# --- (2) the same resources as the TypeScript reference app ----------------------------------------

def test_same_logical_ids_and_types_as_typescript(reference_json: dict[str, Any], ts_reference_template: dict[str, Any]) -> None:
    ts = {k: r["Type"] for k, r in ts_reference_template["Resources"].items() if k != "CDKMetadata"}
    py = {k: r["Type"] for k, r in reference_json["Resources"].items() if k != "CDKMetadata"}
    assert len(ts) >= 100, "the TypeScript reference template is suspiciously small"
    only_ts, only_py = sorted(ts.keys() - py.keys()), sorted(py.keys() - ts.keys())
    assert not only_ts and not only_py, f"resources only in TypeScript: {only_ts}\nresources only in Python: {only_py}"
    assert {k: (ts[k], py[k]) for k in ts if ts[k] != py[k]} == {}
    assert type_counts(reference_json) == type_counts(ts_reference_template)


def test_same_properties_as_typescript_after_normalization(reference_json: dict[str, Any],
                                                           ts_reference_template: dict[str, Any]) -> None:
    ts, py = normalize(ts_reference_template), normalize(reference_json)
    different = sorted(k for k in ts["Resources"] if ts["Resources"][k] != py["Resources"].get(k))
    assert not different, "resources that differ beyond asset hashes and metadata:\n" + "\n".join(
        _resource_diff(k, ts["Resources"][k], py["Resources"].get(k)) for k in different[:5])
    assert ts == py  # parameters, outputs, conditions, rules too


def test_same_asset_hashes_as_typescript(reference_json: dict[str, Any], ts_reference_template: dict[str, Any]) -> None:
    # Stronger than the normalized comparison: the wheel stages byte-identical handler bundles,
    # training context and model package.
    py, ts = asset_hashes(reference_json), asset_hashes(ts_reference_template)
    assert len(ts["file"]) >= 7 and len(ts["image"]) == 1
    assert py == ts


def test_labeling_handlers_get_the_configured_gates_and_split(reference: SynthesizedReference,
                                                            reference_json: dict[str, Any]) -> None:
    # The content of the staged configuration is what app.ts configures (whatever its key order).
    stack = reference.stack
    function_id = stack.resolve(stack.pipeline.cleaning_function.node.default_child.logical_id)
    config = json.loads((staged_asset_dir(reference, reference_json["Resources"][function_id])
                         / "pipeline-config.json").read_text(encoding="utf-8"))
    assert config["gates"] == LABELING["gates"]
    assert config["split"] == LABELING["split"]
    assert config["task"]["classes"] == LABELING["task"]["classes"]
    assert config["labelers"][0]["rules"] == LABELING["rules"]


def _resource_diff(logical_id: str, ts: Any, py: Any, limit: int = 40) -> str:
    import difflib
    lines = list(difflib.unified_diff(
        json.dumps(ts, indent=1, sort_keys=True).splitlines(),
        json.dumps(py, indent=1, sort_keys=True).splitlines(),
        f"typescript {logical_id}", f"python {logical_id}", lineterm="", n=2))
    return "\n".join(lines[:limit])


# --- (3) security properties, from Python ----------------------------------------------------------

def test_every_queue_and_topic_uses_a_customer_managed_key(reference_json: dict[str, Any]) -> None:
    queues = resources_of(reference_json, "AWS::SQS::Queue")
    assert len(queues) >= 5
    for queue_id, queue in queues.items():
        props = queue.get("Properties", {})
        assert is_cmk_arn(reference_json, props.get("KmsMasterKeyId")), f"{queue_id}: {props.get('KmsMasterKeyId')}"
        assert props.get("SqsManagedSseEnabled") in (None, False), queue_id
    for topic_id, topic in resources_of(reference_json, "AWS::SNS::Topic").items():
        assert is_cmk_arn(reference_json, topic["Properties"].get("KmsMasterKeyId")), topic_id


def test_the_ledger_table_uses_a_customer_managed_key(reference: SynthesizedReference) -> None:
    t, stack = reference.template, reference.stack
    tables = t.find_resources("AWS::DynamoDB::GlobalTable")
    tables.update(t.find_resources("AWS::DynamoDB::Table"))
    assert list(tables) == [stack.resolve(stack.pipeline.ledger.node.default_child.logical_id)]
    key_arn = {"Fn::GetAtt": [stack.resolve(stack.pipeline.encryption_key.node.default_child.logical_id), "Arn"]}
    t.has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "Replicas": Match.array_with([Match.object_like({"SSESpecification": {"KMSMasterKeyId": key_arn}})]),
    })
    for table in tables.values():
        for replica in table["Properties"]["Replicas"]:
            assert replica["SSESpecification"]["KMSMasterKeyId"] == key_arn


def test_every_log_group_uses_a_customer_managed_key(reference_json: dict[str, Any]) -> None:
    for log_group_id, log_group in resources_of(reference_json, "AWS::Logs::LogGroup").items():
        assert is_cmk_arn(reference_json, log_group["Properties"].get("KmsKeyId")), log_group_id


def test_every_lambda_function_runs_on_nodejs24(reference: SynthesizedReference) -> None:
    functions = reference.template.find_resources("AWS::Lambda::Function")
    assert len(functions) >= 7
    reference.template.all_resources_properties("AWS::Lambda::Function", {"Runtime": "nodejs24.x"})


def test_training_runs_network_isolated_with_encrypted_output(reference: SynthesizedReference,
                                                              reference_json: dict[str, Any]) -> None:
    stack = reference.stack
    machine_id = stack.resolve(stack.training.state_machine.node.default_child.logical_id)
    asl, tokens = state_machine_definition(reference_json["Resources"][machine_id])
    train = [s for _, s in all_states(asl["States"])
             if str(s.get("Resource", "")).endswith(":states:::sagemaker:createTrainingJob.sync")]
    assert len(train) == 1, "one SageMaker training task"
    params = train[0]["Parameters"]
    assert params["EnableNetworkIsolation"] is True
    assert params["EnableManagedSpotTraining"] is True
    assert params["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    kms_token = params["OutputDataConfig"]["KmsKeyId"]
    assert kms_token.startswith("@@") and is_cmk_arn(reference_json, tokens[int(kms_token.strip("@"))]), kms_token
    assert "VpcConfig" not in params  # isolation without a VPC: no network at all


def test_one_user_pool_the_client_api_and_the_review_api_with_cors_for_exactly_the_console(
        reference: SynthesizedReference) -> None:
    t, stack = reference.template, reference.stack
    t.resource_count_is("AWS::Cognito::UserPool", 1)
    t.resource_count_is("AWS::ApiGateway::RestApi", 2)  # the client's (upload, predict) and the review API
    t.resource_count_is("AWS::ApiGateway::Authorizer", 2)
    pool = stack.resolve(stack.uploads.user_pool.user_pool_arn)
    for authorizer_id, authorizer in t.find_resources("AWS::ApiGateway::Authorizer").items():
        assert authorizer["Properties"]["ProviderARNs"] == [pool], authorizer_id
    methods = t.find_resources("AWS::ApiGateway::Method")
    routes = {k: m["Properties"] for k, m in methods.items() if m["Properties"]["HttpMethod"] != "OPTIONS"}
    assert len(routes) >= 3  # upload, predict, review
    for method_id, props in routes.items():
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS", method_id
    client_api = stack.resolve(stack.api.rest_api_id)
    review_api = stack.resolve(stack.pipeline.review_rest_api.rest_api_id)
    assert client_api != review_api
    assert sorted(p["HttpMethod"] for p in routes.values() if p["RestApiId"] == review_api) == ["GET", "POST"]
    origin = stack.review_console.origin
    assert origin == "https://review.hearing-test.example.com"
    preflights = [m["Properties"] for m in methods.values()
                  if m["Properties"]["HttpMethod"] == "OPTIONS" and m["Properties"]["RestApiId"] == review_api]
    assert preflights
    for props in preflights:
        allowed = [r["ResponseParameters"]["method.response.header.Access-Control-Allow-Origin"]
                   for r in props["Integration"]["IntegrationResponses"]]
        assert allowed == [f"'{origin}'"]


def test_every_bucket_is_kms_or_s3_encrypted_and_private(reference_json: dict[str, Any]) -> None:
    for bucket_id, bucket in resources_of(reference_json, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], bucket_id
        assert all(props["PublicAccessBlockConfiguration"][k] for k in (
            "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")), bucket_id
