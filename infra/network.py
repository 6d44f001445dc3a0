"""Optional fixed outbound IP for the functions that call the WeChat API.

WeChat only issues access tokens to callers whose IP is on the official
account's "IP whitelist".  Lambda's own outbound addresses are shared and
change, so with ``StaticEgressIp=true`` the stack adds a small VPC: two
private subnets whose default route is one NAT gateway with one Elastic IP
(the address to whitelist, output as ``EgressIp``), plus free gateway
endpoints so DynamoDB and S3 traffic does not pass (and pay for) the NAT.
Only functions whose code reaches ``chalicelib.wechat.client`` are placed in
the VPC (see ``infra.access``); the rest keep Lambda's faster default
networking.  One NAT gateway means one address but one AZ: if that AZ fails,
WeChat calls fail until it returns (documented in ``docs/deploy.md``).
"""

from __future__ import annotations

from typing import Any

CONDITION = "UseStaticEgress"
SECURITY_GROUP = "FunctionSecurityGroup"
PRIVATE_SUBNETS = ("PrivateSubnetA", "PrivateSubnetB")


def parameters() -> dict[str, Any]:
    return {
        "StaticEgressIp": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["true", "false"],
            "Description": "Put the WeChat-calling functions in a VPC behind a NAT gateway with one Elastic IP "
            "(the address for the official account's IP whitelist). Costs a NAT gateway.",
        }
    }


def conditions() -> dict[str, Any]:
    return {CONDITION: {"Fn::Equals": [{"Ref": "StaticEgressIp"}, "true"]}}


def vpc_config() -> dict[str, Any]:
    """The ``VpcConfig`` a WeChat-calling function gets (nothing when the option is off)."""
    return {
        "Fn::If": [
            CONDITION,
            {
                "SecurityGroupIds": [{"Ref": SECURITY_GROUP}],
                "SubnetIds": [{"Ref": subnet} for subnet in PRIVATE_SUBNETS],
            },
            {"Ref": "AWS::NoValue"},
        ]
    }


def vpc_managed_policy() -> dict[str, Any]:
    """ENI management for functions in the VPC (AWS's managed policy, present in both partitions)."""
    return {
        "Fn::If": [
            CONDITION,
            [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"},
            ],
            {"Ref": "AWS::NoValue"},
        ]
    }


def _subnet(cidr: str, az_index: int, public: bool) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::Subnet",
        "Condition": CONDITION,
        "Properties": {
            "VpcId": {"Ref": "EgressVpc"},
            "CidrBlock": cidr,
            "AvailabilityZone": {"Fn::Select": [az_index, {"Fn::GetAZs": ""}]},
            "MapPublicIpOnLaunch": False,
            "Tags": [
                {
                    "Key": "Name",
                    "Value": {"Fn::Sub": f"${{AWS::StackName}}-{'public' if public else 'private'}-{'ab'[az_index]}"},
                }
            ],
        },
    }


def resources() -> dict[str, Any]:
    c = {"Condition": CONDITION}
    res: dict[str, Any] = {
        "EgressVpc": {
            "Type": "AWS::EC2::VPC",
            **c,
            "Properties": {
                "CidrBlock": "10.42.0.0/16",
                "EnableDnsHostnames": True,
                "EnableDnsSupport": True,
                "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}-egress"}}],
            },
        },
        "EgressInternetGateway": {"Type": "AWS::EC2::InternetGateway", **c},
        "EgressGatewayAttachment": {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            **c,
            "Properties": {"VpcId": {"Ref": "EgressVpc"}, "InternetGatewayId": {"Ref": "EgressInternetGateway"}},
        },
        "PublicSubnetA": _subnet("10.42.0.0/24", 0, True),
        "PrivateSubnetA": _subnet("10.42.10.0/24", 0, False),
        "PrivateSubnetB": _subnet("10.42.11.0/24", 1, False),
        "PublicRouteTable": {"Type": "AWS::EC2::RouteTable", **c, "Properties": {"VpcId": {"Ref": "EgressVpc"}}},
        "PublicDefaultRoute": {
            "Type": "AWS::EC2::Route",
            **c,
            "DependsOn": "EgressGatewayAttachment",
            "Properties": {
                "RouteTableId": {"Ref": "PublicRouteTable"},
                "DestinationCidrBlock": "0.0.0.0/0",
                "GatewayId": {"Ref": "EgressInternetGateway"},
            },
        },
        "PublicSubnetARoutes": {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            **c,
            "Properties": {"SubnetId": {"Ref": "PublicSubnetA"}, "RouteTableId": {"Ref": "PublicRouteTable"}},
        },
        "EgressIp": {
            "Type": "AWS::EC2::EIP",
            **c,
            "DependsOn": "EgressGatewayAttachment",
            "Properties": {"Domain": "vpc"},
        },
        "EgressNatGateway": {
            "Type": "AWS::EC2::NatGateway",
            **c,
            "Properties": {
                "AllocationId": {"Fn::GetAtt": ["EgressIp", "AllocationId"]},
                "SubnetId": {"Ref": "PublicSubnetA"},
            },
        },
        "PrivateRouteTable": {"Type": "AWS::EC2::RouteTable", **c, "Properties": {"VpcId": {"Ref": "EgressVpc"}}},
        "PrivateDefaultRoute": {
            "Type": "AWS::EC2::Route",
            **c,
            "Properties": {
                "RouteTableId": {"Ref": "PrivateRouteTable"},
                "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": {"Ref": "EgressNatGateway"},
            },
        },
        SECURITY_GROUP: {
            "Type": "AWS::EC2::SecurityGroup",
            **c,
            "Properties": {
                "GroupDescription": "kepuscreen functions: outbound only",
                "VpcId": {"Ref": "EgressVpc"},
                "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0", "Description": "outbound"}],
            },
        },
    }
    for subnet in PRIVATE_SUBNETS:
        res[f"{subnet}Routes"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            **c,
            "Properties": {"SubnetId": {"Ref": subnet}, "RouteTableId": {"Ref": "PrivateRouteTable"}},
        }
    for service in ("dynamodb", "s3"):
        res[f"{service.capitalize()}GatewayEndpoint"] = {
            "Type": "AWS::EC2::VPCEndpoint",
            **c,
            "Properties": {
                "VpcId": {"Ref": "EgressVpc"},
                "VpcEndpointType": "Gateway",
                # gateway endpoint service names are com.amazonaws.<region>.<service> in aws-cn too
                "ServiceName": {"Fn::Sub": f"com.amazonaws.${{AWS::Region}}.{service}"},
                "RouteTableIds": [{"Ref": "PrivateRouteTable"}],
            },
        }
    return res


def outputs() -> dict[str, Any]:
    return {
        "EgressIp": {
            "Condition": CONDITION,
            "Value": {"Ref": "EgressIp"},
            "Description": "Add to the official account's IP whitelist (WeChat console)",
        }
    }
