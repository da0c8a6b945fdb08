"""SecureDataLake and SecureUploadApi through the Python bindings (the built wheel, via jsii).

The canonical configuration (canonical.py) is synthesized once per session; its security
properties are asserted with aws_cdk.assertions, and its template must equal the one TypeScript
synthesizes for the same configuration (test/python-parity/emit-template.ts).
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match, Template
from jsii.errors import JavaScriptError

from canonical import Synthesized, normalize, synth_canonical
from cdk_secure_mlops import (
    ApiAuthorization,
    DataZone,
    ObjectLockMode,
    ObjectLockOptions,
    SecureDataLake,
    SecureUploadApi,
)

ZONE_NAMES = ["raw", "clean", "curated", "quarantine", "models"]


# --- helpers ------------------------------------------------------------------------------------

def logical_id(stack: Stack, construct: Any) -> str:
    """Logical id of an L2's (or L1's) CloudFormation resource, resolved through jsii."""
    element = construct if hasattr(construct, "logical_id") else construct.node.default_child
    return stack.resolve(element.logical_id)


def zone_bucket_ids(c: Synthesized) -> dict[str, str]:
    return {zone.name.lower(): logical_id(c.stack, c.lake.bucket(zone)) for zone in DataZone}


def all_bucket_ids(c: Synthesized) -> set[str]:
    return set(zone_bucket_ids(c).values()) | {logical_id(c.stack, c.lake.access_logs_bucket)}


def bucket_arn(bucket_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [bucket_id, "Arn"]}


def bucket_objects_arn(bucket_id: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [bucket_arn(bucket_id), "/*"]]}


def assert_bucket_policy_has(template: Template, bucket_id: str, statement: dict[str, Any]) -> None:
    template.has_resource_properties("AWS::S3::BucketPolicy", {
        "Bucket": {"Ref": bucket_id},
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like(statement)])},
    })


# --- the lake -------------------------------------------------------------------------------------

def test_five_zone_buckets_plus_access_log_bucket(canonical: Synthesized) -> None:
    t = canonical.template
    t.resource_count_is("AWS::S3::Bucket", 6)
    zones = zone_bucket_ids(canonical)
    assert list(zones) == ZONE_NAMES
    assert len(set(zones.values())) == 5, f"each zone has its own bucket: {zones}"
    access_logs = logical_id(canonical.stack, canonical.lake.access_logs_bucket)
    assert access_logs not in zones.values()
    assert set(t.find_resources("AWS::S3::Bucket")) == set(zones.values()) | {access_logs}
    # Every zone logs to the access-log bucket under its own prefix; the log bucket logs nowhere.
    for name, bucket_id in zones.items():
        found = t.find_resources("AWS::S3::Bucket", {"Properties": {"LoggingConfiguration": {
            "DestinationBucketName": {"Ref": access_logs}, "LogFilePrefix": f"{name}/",
        }}})
        assert list(found) == [bucket_id]
    t.has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({"LoggingConfiguration": Match.absent(),
                                         "BucketEncryption": Match.any_value()}),
    })
    # The getters and bucket(zone) agree.
    assert logical_id(canonical.stack, canonical.lake.raw_bucket) == zones["raw"]
    assert logical_id(canonical.stack, canonical.lake.models_bucket) == zones["models"]


def test_zone_buckets_use_sse_kms_with_bucket_key_and_the_lake_key(canonical: Synthesized) -> None:
    key_id = logical_id(canonical.stack, canonical.lake.encryption_key)
    found = canonical.template.find_resources("AWS::S3::Bucket", {"Properties": {"BucketEncryption": {
        "ServerSideEncryptionConfiguration": [Match.exact({
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]}},
        })],
    }}})
    assert set(found) == set(zone_bucket_ids(canonical).values())
    # S3 server access log delivery supports SSE-S3 only.
    canonical.template.has_resource_properties("AWS::S3::Bucket", {"BucketEncryption": {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}],
    }})


def test_every_bucket_is_versioned_private_and_owner_enforced(canonical: Synthesized) -> None:
    t = canonical.template
    t.all_resources_properties("AWS::S3::Bucket", {"VersioningConfiguration": {"Status": "Enabled"}})
    t.all_resources_properties("AWS::S3::Bucket", {"PublicAccessBlockConfiguration": Match.exact({
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    })})
    t.all_resources_properties("AWS::S3::Bucket", {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    })


def test_every_bucket_policy_denies_insecure_transport_and_tls_below_1_2(canonical: Synthesized) -> None:
    t = canonical.template
    bucket_ids = all_bucket_ids(canonical)
    t.resource_count_is("AWS::S3::BucketPolicy", len(bucket_ids))
    for bucket_id in bucket_ids:
        resources = [bucket_arn(bucket_id), bucket_objects_arn(bucket_id)]
        assert_bucket_policy_has(t, bucket_id, {
            "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": resources,
            "Condition": Match.exact({"Bool": {"aws:SecureTransport": "false"}}),
        })
        assert_bucket_policy_has(t, bucket_id, {
            "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": resources,
            "Condition": Match.exact({"NumericLessThan": {"s3:TlsVersion": 1.2}}),
        })


def test_zone_bucket_policies_deny_uploads_with_a_foreign_kms_key(canonical: Synthesized) -> None:
    key_arn = {"Fn::GetAtt": [logical_id(canonical.stack, canonical.lake.encryption_key), "Arn"]}
    for bucket_id in zone_bucket_ids(canonical).values():
        assert_bucket_policy_has(canonical.template, bucket_id, {
            "Sid": "DenyUploadsWithForeignKmsKey",
            "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
            "Resource": bucket_objects_arn(bucket_id),
            # Null makes the deny apply only when the header is sent; StringNotEquals alone would
            # also deny uploads that rely on the bucket default.
            "Condition": Match.exact({
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
            }),
        })
        assert_bucket_policy_has(canonical.template, bucket_id, {
            "Sid": "DenyUploadsWithOtherEncryption",
            "Effect": "Deny", "Action": "s3:PutObject",
            "Condition": Match.exact({
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            }),
        })


def test_lake_key_rotates_and_every_symmetric_key_rotates(canonical: Synthesized) -> None:
    t = canonical.template
    key_id = logical_id(canonical.stack, canonical.lake.encryption_key)
    assert key_id in t.find_resources("AWS::KMS::Key", {"Properties": {
        "EnableKeyRotation": True, "RotationPeriodInDays": 365,
    }})
    for kid, key in t.find_resources("AWS::KMS::Key").items():
        if "KeySpec" not in key["Properties"]:  # symmetric encryption keys (HMAC keys cannot rotate)
            assert key["Properties"].get("EnableKeyRotation") is True, f"{kid} does not rotate"


def test_pseudonymization_key_is_hmac_256_generate_verify_mac(canonical: Synthesized) -> None:
    assert canonical.lake.pseudonymization_key is not None
    hmac_id = logical_id(canonical.stack, canonical.lake.pseudonymization_key)
    found = canonical.template.find_resources("AWS::KMS::Key", {"Properties": {
        "KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC",
    }})
    assert list(found) == [hmac_id]


def test_buckets_and_keys_are_retained(canonical: Synthesized) -> None:
    for resource_type in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        canonical.template.all_resources(resource_type, {
            "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        })


# --- the upload API ----------------------------------------------------------------------------

def test_post_uploads_has_a_cognito_user_pools_authorizer_and_a_request_validator(canonical: Synthesized) -> None:
    t, stack, uploads = canonical.template, canonical.stack, canonical.uploads
    assert uploads.user_pool is not None
    resource_id = logical_id(stack, uploads.uploads_resource)
    t.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "uploads"})
    authorizers = t.find_resources("AWS::ApiGateway::Authorizer", {"Properties": {
        "Type": "COGNITO_USER_POOLS",
        "ProviderARNs": [{"Fn::GetAtt": [logical_id(stack, uploads.user_pool), "Arn"]}],
    }})
    validators = t.find_resources("AWS::ApiGateway::RequestValidator", {"Properties": {
        "ValidateRequestBody": True, "ValidateRequestParameters": True,
    }})
    assert len(authorizers) == 1 and len(validators) == 1
    t.has_resource_properties("AWS::ApiGateway::Method", {
        "HttpMethod": "POST",
        "ResourceId": {"Ref": resource_id},
        "AuthorizationType": "COGNITO_USER_POOLS",
        "AuthorizerId": {"Ref": next(iter(authorizers))},
        "RequestValidatorId": {"Ref": next(iter(validators))},
        "RequestModels": {"application/json": Match.any_value()},
        "Integration": Match.object_like({"Type": "AWS_PROXY"}),
    })
    # No other route is open.
    for method_id, method in t.find_resources("AWS::ApiGateway::Method").items():
        if method["Properties"]["HttpMethod"] != "OPTIONS":
            assert method["Properties"]["AuthorizationType"] in ("COGNITO_USER_POOLS", "AWS_IAM"), method_id


def test_waf_web_acl_is_associated_with_the_stage(canonical: Synthesized) -> None:
    t, stack, uploads = canonical.template, canonical.stack, canonical.uploads
    assert uploads.web_acl is not None
    acl_id = logical_id(stack, uploads.web_acl)
    api_id = logical_id(stack, uploads.rest_api)
    stage_id = logical_id(stack, uploads.rest_api.deployment_stage)
    t.has_resource_properties("AWS::WAFv2::WebACLAssociation", {
        "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]},
        "ResourceArn": {"Fn::Join": ["", Match.array_with([{"Ref": api_id}, "/stages/", {"Ref": stage_id}])]},
    })
    acl = t.find_resources("AWS::WAFv2::WebACL")[acl_id]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"]
               for r in acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    assert any("RateBasedStatement" in r["Statement"] for r in acl["Rules"])
    assert uploads.url is not None  # a new API has a stage URL (a token until deployment)


def test_api_authorization_iam_yields_aws_iam(tmp_path) -> None:
    auth = ApiAuthorization.iam()
    assert auth.kind == "IAM" and auth.user_pool is None and auth.scopes is None
    s = synth_canonical(str(tmp_path), authorization=auth)
    s.template.has_resource_properties("AWS::ApiGateway::Method", {
        "HttpMethod": "POST",
        "AuthorizationType": "AWS_IAM",
        "AuthorizerId": Match.absent(),
        "RequestValidatorId": Match.any_value(),
    })
    s.template.resource_count_is("AWS::ApiGateway::Authorizer", 0)
    s.template.resource_count_is("AWS::Cognito::UserPool", 0)
    assert s.uploads.user_pool is None


def test_api_authorization_cognito_keeps_pool_and_scopes() -> None:
    stack = Stack(App(), "Auth")
    pool = cognito.UserPool(stack, "Pool")
    auth = ApiAuthorization.cognito(pool, ["uploads/write"])
    assert auth.kind == "COGNITO"
    assert auth.scopes == ["uploads/write"]
    assert auth.user_pool is not None and auth.user_pool.node.path == "Auth/Pool"


# --- parity with TypeScript ------------------------------------------------------------------------

def _diff(a: dict[str, Any], b: dict[str, Any], limit: int = 80) -> str:
    lines = list(difflib.unified_diff(
        json.dumps(a, indent=1, sort_keys=True).splitlines(),
        json.dumps(b, indent=1, sort_keys=True).splitlines(),
        "typescript", "python", lineterm="", n=2,
    ))
    return "\n".join(lines[:limit]) + (f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else "")


def test_python_template_equals_typescript_template(canonical_json: dict[str, Any], ts_template: dict[str, Any]) -> None:
    ts, py = normalize(ts_template), normalize(canonical_json)
    assert len(ts["Resources"]) >= 30, "the TypeScript template is suspiciously small"
    if ts != py:
        only_ts = sorted(set(ts["Resources"]) - set(py["Resources"]))
        only_py = sorted(set(py["Resources"]) - set(ts["Resources"]))
        pytest.fail(
            "the Python and TypeScript templates differ beyond asset hashes and metadata\n"
            f"resources only in TypeScript: {only_ts}\nresources only in Python: {only_py}\n"
            + _diff(ts, py),
            pytrace=False,
        )


def test_parity_normalization_ignores_only_asset_hashes_and_metadata(canonical_json: dict[str, Any]) -> None:
    base = normalize(canonical_json)
    function_id = next(k for k, r in canonical_json["Resources"].items() if r["Type"] == "AWS::Lambda::Function")

    other = json.loads(json.dumps(canonical_json))
    other["Resources"][function_id]["Properties"]["Code"]["S3Key"] = "f" * 64 + ".zip"
    other["Resources"][function_id]["Metadata"] = {"aws:asset:path": "asset.elsewhere", "aws:cdk:path": "X/Y"}
    other["Parameters"]["AssetParametersabc"] = {"Type": "String"}
    other["Resources"]["CDKMetadata"] = {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:..."}}
    assert normalize(other) == base

    changed = json.loads(json.dumps(canonical_json))
    changed["Resources"][function_id]["Properties"]["MemorySize"] = 1024
    assert normalize(changed) != base

    renamed = json.loads(json.dumps(canonical_json))
    renamed["Resources"][function_id + "X"] = renamed["Resources"].pop(function_id)
    assert normalize(renamed) != base


# --- failure paths and enum-like classes from Python ----------------------------------------------

@pytest.mark.parametrize("object_lock", [
    ObjectLockOptions(retention=Duration.days(30), mode=ObjectLockMode.COMPLIANCE),
    {"retention": Duration.days(30)},  # a plain dict works as a struct too
], ids=["ObjectLockOptions", "dict"])
def test_destroy_with_object_lock_raises_a_jsii_error(object_lock: Any) -> None:
    stack = Stack(App(), "Locked")
    with pytest.raises(RuntimeError, match="objectLock") as excinfo:
        SecureDataLake(stack, "Lake", removal_policy=RemovalPolicy.DESTROY, object_lock=object_lock)
    # jsii raises the JavaScript error as RuntimeError, chained to a JavaScriptError with the JS stack.
    assert isinstance(excinfo.value.__cause__, JavaScriptError)
    assert str(excinfo.value).startswith("Locked/Lake: removalPolicy DESTROY cannot be combined with objectLock")


def test_wrong_argument_types_are_rejected_in_python_and_by_the_jsii_kernel() -> None:
    stack = Stack(App(), "Types")
    lake = SecureDataLake(stack, "Lake")
    with pytest.raises(TypeError, match="max_object_size"):  # typeguard, before reaching JavaScript
        SecureUploadApi(stack, "A", lake=lake, max_object_size="5 MiB")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="lake"):  # interfaces are checked by the jsii kernel
        SecureUploadApi(stack, "B", lake="not a lake")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="maxObjectSize"):  # the construct's own validation
        SecureUploadApi(stack, "C", lake=lake, max_object_size=Size.gibibytes(6))


def test_data_zone_is_a_python_enum() -> None:
    # jsii renders a TypeScript string enum as a Python Enum keyed by member name.
    assert [zone.name.lower() for zone in DataZone] == ZONE_NAMES
    assert DataZone["CURATED"] is DataZone.CURATED
    # A real Enum: identity, equality, membership and dict keys work.
    assert DataZone.RAW is DataZone.RAW
    assert DataZone.RAW == DataZone.RAW
    assert DataZone.MODELS in {DataZone.MODELS: 1}


def test_data_zone_selects_the_zone_bucket(canonical: Synthesized) -> None:
    stack, lake = canonical.stack, canonical.lake
    assert logical_id(stack, lake.bucket(DataZone.RAW)) == logical_id(stack, lake.raw_bucket)
    assert logical_id(stack, lake.bucket(DataZone["CURATED"])) == logical_id(stack, lake.curated_bucket)
