"""``python -m infra.deploy --stage prod``: build, deploy the stack, upload the player, say what to paste where.

Uses the operator's AWS credentials (profile, environment or instance role)
and region; the partition follows from the region.  Steps:

1. ``infra.build`` (package + post-process) and cfn-lint -- errors stop here;
2. upload ``deployment.zip`` (content-addressed) and the template to an
   artifacts bucket (``kepuscreen-artifacts-<account>-<region>``, created
   private and encrypted on first use, or ``--artifact-bucket``);
3. create or update the stack through a change set (``CAPABILITY_IAM``,
   ``CAPABILITY_AUTO_EXPAND`` for the SAM transform) and wait;
4. on the first deploy, set ``PublicBaseUrl`` to the API's own URL unless
   one was given (a parameters-only update);
5. create the stage's signing key in SSM if missing;
6. upload ``player_static/`` to ``player/`` with its cache headers
   (``python -m tools.upload_player``);
7. print the callback URL pattern, the player URL and, when the fixed egress
   IP is on, the address for WeChat's IP whitelist.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from infra.build import CFN_LINT_ERROR, build, lint
from infra.stage import PROJECT_DIR, Target

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
WAIT = {"Delay": 15, "MaxAttempts": 240}  # CloudFront distributions take a while


def dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def ensure_artifact_bucket(s3: Any, name: str, region: str) -> str:
    try:
        s3.head_bucket(Bucket=name)
        return name
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"404", "NoSuchBucket"}:
            raise
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    print(f"created artifacts bucket {name}")
    return name


def upload_artifacts(s3: Any, bucket: str, stage: str, template_path: Path) -> dict[str, Any]:
    """Upload the code (once per content) and point the template's functions at it."""
    template = json.loads(template_path.read_text())
    uploaded: dict[str, str] = {}
    for resource in template["Resources"].values():
        key_name = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(
            resource["Type"]
        )
        if not key_name or not isinstance(resource["Properties"].get(key_name), str):
            continue
        local = (template_path.parent / resource["Properties"][key_name]).resolve()
        if str(local) not in uploaded:
            digest = hashlib.sha256(local.read_bytes()).hexdigest()
            key = f"{stage}/code/{digest}.zip"
            s3.upload_file(str(local), bucket, key)
            uploaded[str(local)] = key
        resource["Properties"][key_name] = {"Bucket": bucket, "Key": uploaded[str(local)]}
    return template


def stack_parameters(cfn: Any, stack: str, template: dict[str, Any], given: dict[str, str]) -> list[dict[str, Any]]:
    """Given values; otherwise the stack's previous value; otherwise the template default."""
    previous = set()
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        previous = {p["ParameterKey"] for p in described.get("Parameters", [])}
    except ClientError:
        pass
    unknown = set(given) - set(template.get("Parameters", {}))
    if unknown:
        raise SystemExit(f"unknown parameters {sorted(unknown)}; the template has {sorted(template['Parameters'])}")
    result = []
    for name in template.get("Parameters", {}):
        if name in given:
            result.append({"ParameterKey": name, "ParameterValue": given[name]})
        elif name in previous:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
    return result


def stack_status(cfn: Any, stack: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def deploy_change_set(cfn: Any, stack: str, parameters: list[dict[str, Any]], *, template_url: str | None) -> bool:
    """Create and execute a change set; False when there was nothing to change."""
    status = stack_status(cfn, stack)
    if status == "ROLLBACK_COMPLETE":  # a failed first create can only be deleted
        print(f"stack {stack} is ROLLBACK_COMPLETE from a failed first deploy; deleting it")
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
        status = None
    change_set = f"deploy-{int(time.time())}"
    source = {"TemplateURL": template_url} if template_url else {"UsePreviousTemplate": True}
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=change_set,
        ChangeSetType="UPDATE" if status else "CREATE",
        Parameters=parameters,
        Capabilities=CAPABILITIES,
        **source,
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError:
        reason = cfn.describe_change_set(StackName=stack, ChangeSetName=change_set).get("StatusReason", "")
        if any(text in reason for text in NO_CHANGES):
            cfn.delete_change_set(StackName=stack, ChangeSetName=change_set)
            print("stack already up to date")
            return False
        raise SystemExit(f"change set failed: {reason}") from None
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set)
    waiter = "stack_update_complete" if status else "stack_create_complete"
    print(f"{'updating' if status else 'creating'} stack {stack} (CloudFront can take 10-20 minutes)...")
    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig=WAIT)
    except WaiterError:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"][:15]
        for event in events:
            if event["ResourceStatus"].endswith("FAILED"):
                print(f"  {event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}", file=sys.stderr)
        raise SystemExit(f"stack {stack} did not reach a complete state") from None
    return True


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def ensure_signing_key(target: Target, region: str) -> None:
    """The stage's link-signing key, created once (``chalicelib.secrets`` owns its path)."""
    os.environ.update(target.environment, AWS_DEFAULT_REGION=region)
    from chalicelib import aws
    from chalicelib.secrets import ensure_app_signing_key
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    aws.client.cache_clear()
    ensure_app_signing_key()


def upload_player(bucket: str, region: str, project_dir: Path) -> None:
    if not (project_dir / "tools" / "upload_player.py").is_file():
        print("tools/upload_player.py not found: player_static/ NOT uploaded", file=sys.stderr)
        return
    env = {**os.environ, "AWS_DEFAULT_REGION": region, "PLAYER_BUCKET": bucket}
    subprocess.run(  # noqa: S603 -- fixed argv, no shell
        [sys.executable, "-m", "tools.upload_player", bucket],
        check=True,
        cwd=project_dir,
        env=env,
    )


def stage_variables(target: Target, out: dict[str, str], public_base_url: str) -> dict[str, str]:
    """What the deployed functions see, for running ``tools.*`` against the stage from a workstation."""
    return {
        **target.environment,
        "STAGE": target.stage,
        "AWS_DEFAULT_REGION": target.region,
        "PLAYER_BUCKET": out["PlayerBucketName"],
        "CDN_BASE_URL": out["PlayerBaseUrl"],
        "PUBLIC_BASE_URL": public_base_url or out["EndpointURL"].rstrip("/"),
    }


def print_env(target: Target, cfn: Any, stack: str) -> None:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    public = next(
        (p.get("ParameterValue", "") for p in described.get("Parameters", []) if p["ParameterKey"] == "PublicBaseUrl"),
        "",
    )
    for name, value in stage_variables(target, outputs(cfn, stack), public).items():
        print(f"export {name}={shlex.quote(value)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--stack-name", default="")
    parser.add_argument("--artifact-bucket", default="")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="stack parameter, e.g. PlayerDomainName=player.example.cn (repeatable)",
    )
    parser.add_argument("--skip-player", action="store_true")
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="only print the deployed stage's variables as export lines (for tools run by hand)",
    )
    args = parser.parse_args(argv)
    if os.environ.get("AWS_ENDPOINT_URL"):
        raise SystemExit("AWS_ENDPOINT_URL is set (local emulator?); unset it to deploy to AWS")
    session = boto3.session.Session(region_name=args.region)
    region = session.region_name
    if not region:
        raise SystemExit("no region: pass --region (e.g. cn-north-1) or set AWS_DEFAULT_REGION")
    partition = session.get_partition_for_region(region)
    target = Target(args.stage, partition, region, PROJECT_DIR)
    stack = args.stack_name or f"kepuscreen-{args.stage}"
    given = dict(p.split("=", 1) for p in args.parameter)
    if args.print_env:
        print_env(target, session.client("cloudformation"), stack)
        return 0

    template_path = build(target)
    linted = lint(template_path, region)
    print(linted.stdout, end="")
    if linted.returncode & CFN_LINT_ERROR:
        raise SystemExit("cfn-lint found errors; not deploying")

    account = session.client("sts").get_caller_identity()["Account"]
    s3, cfn = session.client("s3"), session.client("cloudformation")
    bucket = args.artifact_bucket or ensure_artifact_bucket(s3, f"kepuscreen-artifacts-{account}-{region}", region)
    template = upload_artifacts(s3, bucket, args.stage, template_path)
    body = json.dumps(template).encode()
    template_key = f"{args.stage}/templates/{hashlib.sha256(body).hexdigest()}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    template_url = f"https://{bucket}.s3.{region}.{dns_suffix(partition)}/{template_key}"

    deploy_change_set(cfn, stack, stack_parameters(cfn, stack, template, given), template_url=template_url)
    out = outputs(cfn, stack)
    current = {
        p["ParameterKey"]: p.get("ParameterValue", "")
        for p in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Parameters", [])
    }
    if not current.get("PublicBaseUrl"):
        public = out["EndpointURL"].rstrip("/")
        print(f"setting PublicBaseUrl to {public}")
        params = [{"ParameterKey": k, "UsePreviousValue": True} for k in current if k != "PublicBaseUrl"]
        params.append({"ParameterKey": "PublicBaseUrl", "ParameterValue": public})
        deploy_change_set(cfn, stack, params, template_url=None)
        out = outputs(cfn, stack)

    ensure_signing_key(target, region)
    if not args.skip_player:
        upload_player(out["PlayerBucketName"], region, PROJECT_DIR)

    public = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    base = next(
        (p.get("ParameterValue") for p in public.get("Parameters", []) if p["ParameterKey"] == "PublicBaseUrl"), ""
    ) or out["EndpointURL"].rstrip("/")
    print()
    print(f"stack:            {stack} ({region}, {partition})")
    print(f"callback URL:     {base}/wechat/{{appid}}   (WeChat console > 基本配置 > 服务器地址(URL))")
    print(f"  execute-api:    {out['CallbackUrlPattern']}")
    print(f"player URL:       {out['PlayerBaseUrl']}/player/index.html?screen=<SCREEN_ID>&key=<PLAYER_KEY>")
    print(f"player bucket:    {out['PlayerBucketName']}")
    if out.get("EgressIp"):
        print(f"WeChat whitelist: {out['EgressIp']}   (WeChat console > 基本配置 > IP白名单)")
    else:
        print("WeChat whitelist: no fixed egress IP (StaticEgressIp=false); see docs/deploy.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
