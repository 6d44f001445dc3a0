"""The API's own domain: in China an ICP-recorded domain is mandatory (execute-api hosts are not reachable for
WeChat's OAuth and are blocked for web pages without ICP), and WeChat's 网页授权域名 must serve the
accounts' ``MP_verify_*.txt`` at its root.

With ``ApiDomainName`` and ``ApiCertificateArn`` set (an ACM certificate in the stack's region -- imported, in
China), the stack creates a regional custom domain and maps it twice to the API stage: under ``/api`` (the
paths ``PUBLIC_BASE_URL`` names: ``https://<domain>/api``) and at the root (only ``/{file_name}``, the check
files, answers there with anything but 404).  Point a CNAME of the domain at ``ApiDomainTarget``.  The CDN's
own domain is ``PlayerDomainName``/``PlayerCertificate`` (``infra.player``).
"""

from __future__ import annotations

from typing import Any

from infra.stage import Target

CONDITION = "HasApiDomain"


def parameters() -> dict[str, Any]:
    return {
        "ApiDomainName": {
            "Type": "String",
            "Default": "",
            "Description": "ICP-recorded domain of the API and the phone pages, e.g. kepu.example.cn"
            " (empty: execute-api address only)",
        },
        "ApiCertificateArn": {
            "Type": "String",
            "Default": "",
            "Description": "ACM certificate ARN for ApiDomainName, in this region",
        },
    }


def add(template: dict[str, Any], target: Target) -> None:
    resources = template["Resources"]
    if "RestAPI" not in resources:
        return
    template.setdefault("Parameters", {}).update(parameters())
    template.setdefault("Conditions", {})[CONDITION] = {
        "Fn::And": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiDomainName"}, ""]}]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiCertificateArn"}, ""]}]},
        ]
    }
    stage = target.chalice_config["stages"][target.stage].get("api_gateway_stage", "api")
    resources["ApiDomain"] = {
        "Type": "AWS::ApiGateway::DomainName",
        "Condition": CONDITION,
        "Properties": {
            "DomainName": {"Ref": "ApiDomainName"},
            "RegionalCertificateArn": {"Ref": "ApiCertificateArn"},
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2",
        },
    }
    for lid, base_path in (("ApiDomainStageMapping", stage), ("ApiDomainRootMapping", None)):
        # ``RestAPI.Stage``: SAM resolves it to the stage it creates, so the mapping waits for that stage
        props: dict[str, Any] = {
            "DomainName": {"Ref": "ApiDomain"},
            "RestApiId": {"Ref": "RestAPI"},
            "Stage": {"Ref": "RestAPI.Stage"},
        }
        if base_path:
            props["BasePath"] = base_path
        resources[lid] = {"Type": "AWS::ApiGateway::BasePathMapping", "Condition": CONDITION, "Properties": props}
    template.setdefault("Outputs", {})["ApiDomainTarget"] = {
        "Condition": CONDITION,
        "Description": "CNAME target for ApiDomainName",
        "Value": {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]},
    }
