"""The player bucket and the CDN in front of it.

The bucket is private (all public access blocked, objects owned by the
bucket owner, TLS-only), encrypted (SSE-S3) and versioned; only the
distribution may read it, and only the three prefixes that are meant to be
public:

- ``player/``  the static player (uploaded by ``make deploy``); its versioned
  files carry ``Cache-Control: immutable`` and are cached up to a year, its
  entry page a short time -- the uploader sets the header, the cache policy
  honours it;
- ``media/``   content-addressed media (``media/<sha256>.<ext>``): cached a
  year whatever the origin says;
- ``screens/`` each screen's ``manifest.json``: cached seconds, so a publish
  reaches the screens quickly;
- ``console/`` the staff console (a Vite build: hashed assets immutable, its
  entry page ``no-cache``).

``/api/*`` goes to the API Gateway (never cached; cookies, the query string and
the console's own headers forwarded), so the console is same-origin with the
admin API: no CORS, and its SameSite=Strict session cookie works.

Partitions differ: CloudFront in the China regions has no Origin Access
Control (the resource type does not exist there; cfn-lint's region schemas
say so) and no ACM, so ``aws-cn`` uses an Origin Access Identity and an IAM
server certificate, and needs the operator's own ICP-recorded domain -- the
default ``*.cloudfront.cn`` domain cannot serve content.
"""

from __future__ import annotations

from typing import Any

from chalicelib.settings import Settings

BUCKET = "PlayerBucket"
DISTRIBUTION = "PlayerDistribution"
HAS_DOMAIN = "HasPlayerDomain"
PUBLIC_PREFIXES = ("player/*", "screens/*", "media/*", "console/*")
API_ORIGIN = "api-gateway"
# What the console sends that the API reads (Host must stay the API Gateway's own; Authorization
# cannot be forwarded without caching, and the console signs in with its cookie instead).
API_HEADERS = (
    "Accept",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    "X-CSRF-Token",
    "User-Agent",
    "Accept-Language",
    "CloudFront-Viewer-Address",
)  # the viewer's address: per-client caps (sign-in)
YEAR = 365 * 24 * 3600

# name -> (min, default, max) TTL in seconds
CACHE_POLICIES = {
    "Media": (24 * 3600, YEAR, YEAR),  # content-addressed: never changes under its name
    "Player": (0, 300, YEAR),  # follows the uploader's Cache-Control (immutable vs. short)
    "Manifest": (0, 5, 30),  # screens poll; a publish must show within seconds
}
BEHAVIOURS = (("media/*", "Media"), ("screens/*", "Manifest"), ("player/*", "Player"), ("console/*", "Player"))


def parameters(china: bool) -> dict[str, Any]:
    domain_doc = (
        "Player CDN domain (CNAME), e.g. player.example.cn. Required in China: *.cloudfront.cn cannot "
        "serve content and the domain needs an ICP recordal."
    )
    cert_doc = (
        "IAM server certificate ID for the player domain (China regions have no ACM for CloudFront)"
        if china
        else "ACM certificate ARN in us-east-1 for the player domain (empty: use *.cloudfront.net)"
    )
    params = {
        "PlayerDomainName": {"Type": "String", "Default": "", "Description": domain_doc},
        "PlayerCertificate": {"Type": "String", "Default": "", "Description": cert_doc},
    }
    if china:
        for param in params.values():
            del param["Default"]
            param["MinLength"] = 1
    return params


def conditions(china: bool) -> dict[str, Any]:
    if china:
        return {}
    return {HAS_DOMAIN: {"Fn::Not": [{"Fn::Equals": [{"Ref": "PlayerDomainName"}, ""]}]}}


def base_url(china: bool) -> Any:
    """The CDN's base URL, as a CloudFormation value (what ``CDN_BASE_URL`` is set to)."""
    with_domain = {"Fn::Sub": "https://${PlayerDomainName}"}
    if china:
        return with_domain
    return {"Fn::If": [HAS_DOMAIN, with_domain, {"Fn::Sub": f"https://${{{DISTRIBUTION}.DomainName}}"}]}


def resources(settings: Settings, china: bool) -> dict[str, Any]:
    res: dict[str, Any] = {
        BUCKET: {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                # Bucket names are global; the account id keeps the stage's name unique.
                "BucketName": {"Fn::Sub": f"{settings.player_bucket}-${{AWS::AccountId}}"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True},
                    ]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [
                        # manifests are rewritten on every change: keep old versions for a month, not forever
                        {
                            "Id": "expire-old-versions",
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
                        },
                    ]
                },
            },
        },
    }
    for name, (min_ttl, default_ttl, max_ttl) in CACHE_POLICIES.items():
        res[f"{name}CachePolicy"] = {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {
                "CachePolicyConfig": {
                    "Name": {"Fn::Sub": f"${{AWS::StackName}}-{name.lower()}"},
                    "MinTTL": min_ttl,
                    "DefaultTTL": default_ttl,
                    "MaxTTL": max_ttl,
                    "ParametersInCacheKeyAndForwardedToOrigin": {
                        "EnableAcceptEncodingGzip": True,
                        "EnableAcceptEncodingBrotli": True,
                        "CookiesConfig": {"CookieBehavior": "none"},
                        "HeadersConfig": {"HeaderBehavior": "none"},
                        # cache-busting query strings must not reach (and bill) the origin
                        "QueryStringsConfig": {"QueryStringBehavior": "none"},
                    },
                }
            },
        }

    origin: dict[str, Any] = {"Id": "player-bucket", "DomainName": {"Fn::GetAtt": [BUCKET, "RegionalDomainName"]}}
    if china:
        res["PlayerOriginAccessIdentity"] = {
            "Type": "AWS::CloudFront::CloudFrontOriginAccessIdentity",
            "Properties": {
                "CloudFrontOriginAccessIdentityConfig": {"Comment": {"Fn::Sub": "${AWS::StackName} player"}}
            },
        }
        origin["S3OriginConfig"] = {
            "OriginAccessIdentity": {"Fn::Sub": "origin-access-identity/cloudfront/${PlayerOriginAccessIdentity}"},
        }
        reader: dict[str, Any] = {"CanonicalUser": {"Fn::GetAtt": ["PlayerOriginAccessIdentity", "S3CanonicalUserId"]}}
        condition: dict[str, Any] | None = None
    else:
        res["PlayerOriginAccessControl"] = {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-player"},
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        }
        origin["S3OriginConfig"] = {"OriginAccessIdentity": ""}
        origin["OriginAccessControlId"] = {"Fn::GetAtt": ["PlayerOriginAccessControl", "Id"]}
        reader = {"Service": "cloudfront.amazonaws.com"}
        condition = {
            "StringEquals": {
                "AWS:SourceArn": {
                    "Fn::Sub": f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{DISTRIBUTION}}}"  # noqa: E501 - one ARN template
                }
            }
        }

    # Phone pages (served by the API's domain) read manifests and media cross-origin.
    res["PlayerResponseHeadersPolicy"] = {
        "Type": "AWS::CloudFront::ResponseHeadersPolicy",
        "Properties": {
            "ResponseHeadersPolicyConfig": {
                "Name": {"Fn::Sub": "${AWS::StackName}-player"},
                "CorsConfig": {
                    "AccessControlAllowCredentials": False,
                    "AccessControlAllowHeaders": {"Items": ["*"]},
                    "AccessControlAllowMethods": {"Items": ["GET", "HEAD", "OPTIONS"]},
                    "AccessControlAllowOrigins": {"Items": ["*"]},
                    "AccessControlMaxAgeSec": 86400,
                    "OriginOverride": True,
                },
                "SecurityHeadersConfig": {"ContentTypeOptions": {"Override": True}},
            }
        },
    }

    def behaviour(policy: str) -> dict[str, Any]:
        return {
            "ResponseHeadersPolicyId": {"Ref": "PlayerResponseHeadersPolicy"},
            "TargetOriginId": "player-bucket",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": ["GET", "HEAD", "OPTIONS"],
            "CachedMethods": ["GET", "HEAD"],
            "Compress": True,
            "CachePolicyId": {"Ref": f"{policy}CachePolicy"},
        }

    if china:
        aliases: Any = [{"Ref": "PlayerDomainName"}]
        certificate: Any = {
            "IamCertificateId": {"Ref": "PlayerCertificate"},
            "SslSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2019",
        }
    else:
        aliases = {"Fn::If": [HAS_DOMAIN, [{"Ref": "PlayerDomainName"}], {"Ref": "AWS::NoValue"}]}
        certificate = {
            "Fn::If": [
                HAS_DOMAIN,
                {
                    "AcmCertificateArn": {"Ref": "PlayerCertificate"},
                    "SslSupportMethod": "sni-only",
                    "MinimumProtocolVersion": "TLSv1.2_2021",
                },
                {"CloudFrontDefaultCertificate": True},
            ]
        }
    res[DISTRIBUTION] = {
        "Type": "AWS::CloudFront::Distribution",
        # W1030: cfn-lint checks PlayerCertificate's empty default against the ACM ARN pattern, though the
        # certificate is only used under HasPlayerDomain.
        **({} if china else {"Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}}}),
        "Properties": {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": {"Fn::Sub": "${AWS::StackName} screen player"},
                "Aliases": aliases,
                "ViewerCertificate": certificate,
                "Origins": [origin, api_origin()],
                "DefaultCacheBehavior": behaviour("Player"),
                "CacheBehaviors": [api_behaviour()]
                + [{"PathPattern": pattern, **behaviour(policy)} for pattern, policy in BEHAVIOURS],
            }
        },
    }

    res.update(api_policies())
    read_statement: dict[str, Any] = {
        "Sid": "CdnReadsPublicPrefixes",
        "Effect": "Allow",
        "Principal": reader,
        "Action": "s3:GetObject",
        "Resource": [{"Fn::Sub": f"${{{BUCKET}.Arn}}/{prefix}"} for prefix in PUBLIC_PREFIXES],
    }
    if condition:
        read_statement["Condition"] = condition
    res["PlayerBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": BUCKET},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    read_statement,
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [{"Fn::GetAtt": [BUCKET, "Arn"]}, {"Fn::Sub": f"${{{BUCKET}.Arn}}/*"}],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }
    return res


def api_origin() -> dict[str, Any]:
    """The API Gateway (Chalice's ``RestAPI``, stage ``api``) behind ``/api/*``."""
    return {
        "Id": API_ORIGIN,
        "DomainName": {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
        "OriginPath": "/api",
        "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]},
    }


def api_policies() -> dict[str, Any]:
    return {
        "ApiCachePolicy": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {
                "CachePolicyConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-api"},
                    "MinTTL": 0,
                    "DefaultTTL": 0,
                    "MaxTTL": 0,
                    "ParametersInCacheKeyAndForwardedToOrigin": {
                        "EnableAcceptEncodingGzip": False,
                        "EnableAcceptEncodingBrotli": False,
                        "CookiesConfig": {"CookieBehavior": "none"},
                        "HeadersConfig": {"HeaderBehavior": "none"},
                        "QueryStringsConfig": {"QueryStringBehavior": "none"},
                    },
                }
            },
        },
        "ApiOriginRequestPolicy": {
            "Type": "AWS::CloudFront::OriginRequestPolicy",
            "Properties": {
                "OriginRequestPolicyConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-api"},
                    "CookiesConfig": {"CookieBehavior": "all"},
                    "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": list(API_HEADERS)},
                    "QueryStringsConfig": {"QueryStringBehavior": "all"},
                }
            },
        },
    }


def api_behaviour() -> dict[str, Any]:
    return {
        "PathPattern": "api/*",
        "TargetOriginId": API_ORIGIN,
        "ViewerProtocolPolicy": "https-only",
        "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "CachePolicyId": {"Ref": "ApiCachePolicy"},
        "OriginRequestPolicyId": {"Ref": "ApiOriginRequestPolicy"},
    }


def outputs(china: bool) -> dict[str, Any]:
    return {
        "PlayerBucketName": {"Value": {"Ref": BUCKET}},
        "PlayerDistributionId": {"Value": {"Ref": DISTRIBUTION}},
        "PlayerDistributionDomain": {"Value": {"Fn::GetAtt": [DISTRIBUTION, "DomainName"]}},
        "PlayerBaseUrl": {"Value": base_url(china)},
        "ConsoleUrl": {"Value": {"Fn::Join": ["", [base_url(china), "/console/"]]}},
    }
