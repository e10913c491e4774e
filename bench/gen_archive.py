#!/usr/bin/env python3
"""Generates a synthetic, realistic CloudTrail archive for benchmarking cloudtracker.

Writes DIR/AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz (the S3 layout), plus
DIR/iam.json (authorization details), DIR/identity-store.json (the Identity Center users),
DIR/config.yaml and DIR/manifest.json. The output is
a pure function of the arguments (not of timing or process scheduling). Standard library only.
"""

import argparse
import base64
import bisect
import calendar
import collections
import fnmatch
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
import zlib

GENERATOR_VERSION = 2
WINDOW = 300  # seconds of activity per trail file, as CloudTrail delivers them (~5 minutes)

# ---------------------------------------------------------------------------------------------
# The (eventSource, eventName) catalog. One line per eventSource prefix: "Name:weight" items.
# Weights are relative call frequencies (skewed like real accounts: describe/list/get and a few
# hot data-plane-ish management calls dominate). Suffix "!d" marks an S3/DynamoDB data event.
# Event names are the ones CloudTrail records (Lambda's version suffixes, S3's own names);
# iam_actions_of() maps them to IAM actions, all of which exist in iam_actions.tsv.
CATALOG = """
ec2: DescribeInstances:200 DescribeInstanceStatus:60 DescribeSecurityGroups:60 DescribeVpcs:40
 DescribeSubnets:40 DescribeVolumes:40 DescribeSnapshots:20 DescribeImages:30 DescribeRegions:30
 DescribeAvailabilityZones:20 DescribeNetworkInterfaces:40 DescribeRouteTables:15
 DescribeKeyPairs:10 DescribeTags:30 DescribeAddresses:10 DescribeLaunchTemplates:10
 DescribeLaunchTemplateVersions:8 DescribeInstanceTypes:10 DescribeInstanceAttribute:5
 DescribeNatGateways:5 DescribeInternetGateways:5 DescribeVpcEndpoints:5 DescribeNetworkAcls:4
 DescribeSpotPriceHistory:3 DescribeReservedInstances:2 DescribeAccountAttributes:10
 DescribeVolumeStatus:5 DescribeSecurityGroupRules:6 DescribeFlowLogs:2
 DescribeInstanceCreditSpecifications:2 DescribePrefixLists:2 DescribeTransitGateways:1
 RunInstances:6 StartInstances:4 StopInstances:4 TerminateInstances:3 RebootInstances:1
 CreateTags:12 DeleteTags:2 CreateSnapshot:4 DeleteSnapshot:2 CreateVolume:2 AttachVolume:2
 DetachVolume:1 DeleteVolume:1 AuthorizeSecurityGroupIngress:2 RevokeSecurityGroupIngress:1
 CreateSecurityGroup:1 DeleteSecurityGroup:0.5 ModifyInstanceAttribute:1
 CreateNetworkInterface:3 DeleteNetworkInterface:3 AllocateAddress:0.5 AssociateAddress:0.5
 ReleaseAddress:0.3 GetConsoleOutput:1 CreateLaunchTemplateVersion:1 ModifySnapshotAttribute:0.3
 GetPasswordData:0.2 CreateKeyPair:0.3 ImportKeyPair:0.2 CreateImage:0.5 DeregisterImage:0.3
 CopySnapshot:0.3 ModifyVolume:0.2 GetEbsEncryptionByDefault:1 GetEbsDefaultKmsKeyId:0.5
 CreateVpcEndpoint:0.1
s3: ListBuckets:60 GetBucketAcl:80 GetBucketLocation:60 GetBucketPolicy:25 GetBucketVersioning:20
 GetBucketLogging:15 GetBucketTagging:20 GetBucketEncryption:15 GetBucketPublicAccessBlock:15
 GetBucketPolicyStatus:10 GetBucketOwnershipControls:8 GetBucketCors:6 GetBucketWebsite:5
 GetBucketNotification:3 GetBucketLifecycle:5 GetBucketReplication:3 GetBucketObjectLockConfiguration:2
 GetAccelerateConfiguration:2 GetBucketRequestPayment:2 PutBucketPolicy:2 PutBucketTagging:2
 PutBucketVersioning:1 PutBucketPublicAccessBlock:1 PutBucketEncryption:1 CreateBucket:1
 DeleteBucket:0.5 PutBucketAcl:0.5 DeleteBucketPolicy:0.3 PutBucketLogging:0.3
 PutBucketLifecycle:0.3 DeleteBucketCors:0.1 DeleteBucketTagging:0.1
 GetObject:30!d PutObject:15!d HeadObject:8!d DeleteObject:3!d ListObjects:10!d CopyObject:1!d
 CreateMultipartUpload:1!d HeadBucket:4!d DeleteObjects:0.5!d
iam: GetUser:15 ListUsers:15 ListRoles:20 GetRole:20 ListPolicies:10 GetPolicy:12
 GetPolicyVersion:12 ListAttachedRolePolicies:15 ListRolePolicies:12 GetRolePolicy:8
 ListAttachedUserPolicies:8 ListUserPolicies:6 ListGroupsForUser:8 ListGroups:4 GetGroup:3
 ListAccessKeys:10 GetAccessKeyLastUsed:6 ListMFADevices:6 GetAccountSummary:4
 GetAccountPasswordPolicy:3 ListInstanceProfiles:5 GetInstanceProfile:4
 ListInstanceProfilesForRole:5 ListPolicyVersions:3 ListEntitiesForPolicy:2
 GenerateCredentialReport:2 GetCredentialReport:2 ListAccountAliases:4 ListServerCertificates:1
 ListOpenIDConnectProviders:1 ListSAMLProviders:1 GetLoginProfile:1 ListVirtualMFADevices:1
 GenerateServiceLastAccessedDetails:1 GetServiceLastAccessedDetails:1 ListRoleTags:2
 CreateRole:0.5 DeleteRole:0.2 AttachRolePolicy:0.6 DetachRolePolicy:0.3 PutRolePolicy:0.5
 DeleteRolePolicy:0.2 UpdateAssumeRolePolicy:0.3 CreatePolicy:0.4 CreatePolicyVersion:0.4
 DeletePolicyVersion:0.2 CreateUser:0.2 DeleteUser:0.1 CreateAccessKey:0.3 DeleteAccessKey:0.2
 UpdateAccessKey:0.2 AddUserToGroup:0.2 RemoveUserFromGroup:0.1 TagRole:0.3
 CreateServiceLinkedRole:0.1 CreateLoginProfile:0.05 UpdateLoginProfile:0.05
 AttachUserPolicy:0.05 ChangePassword:0.2
sts: GetCallerIdentity:40 GetSessionToken:1 DecodeAuthorizationMessage:0.3 GetAccessKeyInfo:0.2
 GetFederationToken:0.1
kms: Decrypt:100 Encrypt:20 GenerateDataKey:60 GenerateDataKeyWithoutPlaintext:3 DescribeKey:20
 ListKeys:8 ListAliases:12 GetKeyPolicy:5 GetKeyRotationStatus:5 ListResourceTags:3 ListGrants:3
 CreateGrant:2 RetireGrant:0.5 ReEncrypt:0.5 CreateKey:0.1 ScheduleKeyDeletion:0.05
 EnableKeyRotation:0.1 PutKeyPolicy:0.1 CreateAlias:0.1 TagResource:0.1
lambda: ListFunctions20150331:15 GetFunction20150331v2:10 GetFunctionConfiguration20150331v2:6
 ListVersionsByFunction20150331:3 ListAliases20150331:2 GetPolicy20150331v2:3
 ListEventSourceMappings20150331:3 ListLayers20181031:1 ListLayerVersions20181031:1
 GetAccountSettings20160819:2 ListTags20170331:2 CreateFunction20150331:0.5
 UpdateFunctionCode20150331v2:2 UpdateFunctionConfiguration20150331v2:1
 AddPermission20150331v2:0.5 RemovePermission20150331v2:0.2 DeleteFunction20150331:0.2
 PublishVersion20150331:0.5 CreateEventSourceMapping20150331:0.1 PutFunctionConcurrency20171031:0.1
monitoring: DescribeAlarms:40 DescribeAlarmsForMetric:3 DescribeAlarmHistory:3 ListDashboards:5
 GetDashboard:5 PutMetricAlarm:2 DeleteAlarms:0.5 PutDashboard:0.5 ListTagsForResource:2
 DescribeAnomalyDetectors:1 EnableAlarmActions:0.2 DisableAlarmActions:0.2 SetAlarmState:0.2
 DescribeInsightRules:0.5
logs: DescribeLogGroups:40 DescribeLogStreams:30 CreateLogStream:60 CreateLogGroup:3
 DescribeMetricFilters:5 DescribeSubscriptionFilters:5 PutRetentionPolicy:1 DeleteLogGroup:0.3
 StartQuery:3 GetQueryResults:6 StopQuery:0.3 DescribeQueries:1 ListTagsLogGroup:2
 PutSubscriptionFilter:0.2 PutMetricFilter:0.3 DescribeResourcePolicies:1 DescribeDestinations:0.5
 ListTagsForResource:1 TagResource:0.2
dynamodb: DescribeTable:30 ListTables:15 DescribeContinuousBackups:4 DescribeTimeToLive:4
 ListTagsOfResource:5 DescribeLimits:2 DescribeGlobalTable:0.5 ListBackups:2 CreateTable:0.3
 UpdateTable:0.5 DeleteTable:0.1 CreateBackup:1 UpdateTimeToLive:0.2 TagResource:0.2
 DescribeKinesisStreamingDestination:0.5 DescribeContributorInsights:1 ListGlobalTables:0.5
 GetItem:6!d PutItem:4!d Query:5!d UpdateItem:2!d
cloudtrail: DescribeTrails:10 GetTrailStatus:8 LookupEvents:10 GetEventSelectors:5 ListTrails:4
 GetInsightSelectors:2 ListTags:2 GetTrail:2 CreateTrail:0.05 UpdateTrail:0.1 StopLogging:0.02
 StartLogging:0.05 PutEventSelectors:0.05 DeleteTrail:0.02
ecr: GetAuthorizationToken:40 DescribeRepositories:10 DescribeImages:8 ListImages:6 BatchGetImage:15
 BatchCheckLayerAvailability:5 InitiateLayerUpload:1 CompleteLayerUpload:1 PutImage:1
 GetLifecyclePolicy:2 GetRepositoryPolicy:2 DescribeImageScanFindings:1 CreateRepository:0.1
 ListTagsForResource:2
ecs: ListClusters:10 DescribeClusters:10 ListServices:8 DescribeServices:12 ListTasks:10
 DescribeTasks:10 DescribeTaskDefinition:8 ListTaskDefinitions:3 DescribeContainerInstances:3
 ListContainerInstances:3 UpdateService:1 RegisterTaskDefinition:1 RunTask:1 StopTask:0.5
 DeregisterTaskDefinition:0.3 ListTagsForResource:2
ssm: DescribeInstanceInformation:30 GetParameter:25 GetParameters:15 GetParametersByPath:10
 DescribeParameters:5 ListCommands:2 ListCommandInvocations:2 GetCommandInvocation:2
 SendCommand:1 PutParameter:1 DeleteParameter:0.2 StartSession:0.5 TerminateSession:0.5
 ListAssociations:3 DescribeAssociation:1 GetInventory:1 ListDocuments:2 DescribeDocument:1
 GetDocument:1 UpdateInstanceInformation:15 ListTagsForResource:1 DescribePatchBaselines:0.5
secretsmanager: GetSecretValue:25 DescribeSecret:10 ListSecrets:6 GetResourcePolicy:1
 PutSecretValue:1 CreateSecret:0.2 UpdateSecret:0.3 RotateSecret:0.2 DeleteSecret:0.05
 TagResource:0.1 BatchGetSecretValue:0.2 ListSecretVersionIds:0.5
sns: ListTopics:8 GetTopicAttributes:10 ListSubscriptions:3 ListSubscriptionsByTopic:4
 GetSubscriptionAttributes:2 CreateTopic:0.3 Subscribe:0.3 SetTopicAttributes:0.2 DeleteTopic:0.05
 ListTagsForResource:1
sqs: ListQueues:8 GetQueueAttributes:10 GetQueueUrl:4 CreateQueue:0.3 SetQueueAttributes:0.3
 DeleteQueue:0.05 ListQueueTags:1 PurgeQueue:0.05
cloudformation: DescribeStacks:25 ListStacks:8 DescribeStackEvents:10 DescribeStackResources:6
 DescribeStackResource:3 GetTemplate:3 ListStackResources:6 GetTemplateSummary:2
 ValidateTemplate:1 CreateStack:0.3 UpdateStack:0.5 DeleteStack:0.2 CreateChangeSet:0.5
 DescribeChangeSet:1 ExecuteChangeSet:0.5 ListExports:2 ListStackSets:1 DescribeStackSet:0.3
elasticloadbalancing: DescribeLoadBalancers:15 DescribeTargetGroups:10 DescribeTargetHealth:15
 DescribeListeners:6 DescribeRules:3 DescribeTags:5 DescribeLoadBalancerAttributes:4
 DescribeTargetGroupAttributes:3 RegisterTargets:1 DeregisterTargets:1
 ModifyTargetGroupAttributes:0.2 CreateLoadBalancer:0.05
autoscaling: DescribeAutoScalingGroups:20 DescribeLaunchConfigurations:3 DescribeScalingActivities:5
 DescribePolicies:3 DescribeLifecycleHooks:2 DescribeScheduledActions:2
 DescribeAutoScalingInstances:4 UpdateAutoScalingGroup:0.5 SetDesiredCapacity:0.5
 CompleteLifecycleAction:0.5 DescribeTags:2
rds: DescribeDBInstances:20 DescribeDBClusters:10 DescribeDBSnapshots:5 DescribeDBClusterSnapshots:3
 DescribeDBSubnetGroups:3 DescribeDBParameterGroups:2 DescribeDBEngineVersions:2 DescribeEvents:3
 DescribeDBLogFiles:2 ListTagsForResource:5 DescribePendingMaintenanceActions:2
 DescribeOrderableDBInstanceOptions:1 CreateDBSnapshot:0.5 ModifyDBInstance:0.4
 RebootDBInstance:0.2 DeleteDBSnapshot:0.2 ModifyDBSnapshotAttribute:0.05 AddTagsToResource:0.2
 DescribeDBProxies:1 DescribeGlobalClusters:0.5 DescribeCertificates:0.5 ModifyDBCluster:0.2
 CreateDBCluster:0.05 StartDBCluster:0.1 StopDBCluster:0.1
route53: ListHostedZones:8 GetHostedZone:4 ListResourceRecordSets:8 ChangeResourceRecordSets:1
 GetChange:1 ListHealthChecks:2 GetHealthCheckStatus:1 ListTagsForResource:1
 ListHostedZonesByName:2
cloudfront: ListDistributions:4 GetDistribution:2 GetDistributionConfig:2 CreateInvalidation:1
 ListInvalidations:1 GetInvalidation:0.5
organizations: DescribeOrganization:8 ListAccounts:3 DescribeAccount:1 ListRoots:1 ListPolicies:1
 ListOrganizationalUnitsForParent:0.5 ListAWSServiceAccessForOrganization:0.5 DescribePolicy:0.3
config: DescribeConfigRules:5 DescribeConfigurationRecorders:4 DescribeConfigurationRecorderStatus:4
 DescribeDeliveryChannels:3 DescribeComplianceByConfigRule:2 GetComplianceDetailsByConfigRule:2
 PutEvaluations:10 SelectResourceConfig:1 DescribeConfigRuleEvaluationStatus:2
guardduty: ListDetectors:6 GetDetector:3 ListFindings:4 GetFindings:3 GetFindingsStatistics:2
 ListFilters:1 ArchiveFindings:0.2
securityhub: GetFindings:5 DescribeHub:2 GetEnabledStandards:2 BatchImportFindings:3
 DescribeStandardsControls:1 BatchUpdateFindings:0.3
glue: GetDatabases:6 GetTables:6 GetTable:5 GetDatabase:3 GetPartitions:5 GetJobRuns:2 GetJobs:2
 StartJobRun:0.5 GetCrawlers:1 StartCrawler:0.3 CreateTable:0.2 UpdateTable:0.3
 BatchCreatePartition:0.3
athena: StartQueryExecution:8 GetQueryExecution:15 GetQueryResults:8 ListWorkGroups:2 GetWorkGroup:3
 ListQueryExecutions:2 StopQueryExecution:0.2 ListDataCatalogs:1 GetDataCatalog:1
events: ListRules:5 DescribeRule:3 ListTargetsByRule:3 PutRule:0.3 PutTargets:0.3 DescribeEventBus:1
 ListEventBuses:1 DisableRule:0.1 EnableRule:0.1
states: ListStateMachines:3 DescribeStateMachine:2 StartExecution:2 DescribeExecution:3
 ListExecutions:2 GetExecutionHistory:1 StopExecution:0.1
kinesis: DescribeStream:4 ListStreams:3 DescribeStreamSummary:2 ListShards:2 ListTagsForStream:1
acm: ListCertificates:4 DescribeCertificate:4 GetCertificate:1 RequestCertificate:0.1
 ListTagsForCertificate:1
eks: ListClusters:3 DescribeCluster:5 ListNodegroups:2 DescribeNodegroup:2 ListAddons:1
 DescribeAddonVersions:1
health: DescribeEvents:3 DescribeEventAggregates:1 DescribeEventDetails:1
tagging: GetResources:5 GetTagKeys:1 TagResources:0.3
ce: GetCostAndUsage:3 GetCostForecast:1
signin: ConsoleLogin:3
"""

# Services whose events are logged in us-east-1 only.
GLOBAL_SOURCES = {"iam", "organizations", "route53", "cloudfront", "health", "ce", "signin"}
PREFIX_RENAMES = {"monitoring": "cloudwatch", "tagging": "tag"}
# CloudTrail event names that are not the IAM action's name (see the reference page).
EVENT_RENAMES = {
    ("s3", "ListBuckets"): ["s3:ListAllMyBuckets"],
    ("s3", "HeadBucket"): ["s3:ListBucket"],
    ("s3", "ListObjects"): ["s3:ListBucket"],
    ("s3", "HeadObject"): ["s3:GetObject"],
    ("s3", "CopyObject"): ["s3:GetObject", "s3:PutObject"],
    ("s3", "CreateMultipartUpload"): ["s3:PutObject"],
    ("s3", "DeleteObjects"): ["s3:DeleteObject"],
    ("s3", "GetBucketEncryption"): ["s3:GetEncryptionConfiguration"],
    ("s3", "PutBucketEncryption"): ["s3:PutEncryptionConfiguration"],
    ("s3", "GetBucketLifecycle"): ["s3:GetLifecycleConfiguration"],
    ("s3", "PutBucketLifecycle"): ["s3:PutLifecycleConfiguration"],
    ("s3", "GetBucketReplication"): ["s3:GetReplicationConfiguration"],
    ("s3", "DeleteBucketCors"): ["s3:PutBucketCORS"],
    ("s3", "DeleteBucketTagging"): ["s3:PutBucketTagging"],
    ("kms", "ReEncrypt"): ["kms:ReEncryptFrom", "kms:ReEncryptTo"],
}
# Events that need no IAM permission.
NO_IAM = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken"), ("signin", "ConsoleLogin")}
VERSION_SUFFIX = re.compile(r"(20\d\d(_\d\d_\d\d|\d{4})(v\d+)?)$")
READ_VERBS = ("Describe", "List", "Get", "Head", "Lookup", "Search", "Select", "Validate",
              "Decrypt", "Encrypt", "Generate", "BatchGet", "BatchCheck", "Query", "Decode")

REGIONS = [("us-east-1", 45), ("us-west-2", 20), ("eu-west-1", 15), ("eu-central-1", 8),
           ("ap-southeast-2", 5), ("ap-northeast-1", 4), ("us-east-2", 3)]


def iam_actions_of(source, name):
    """Returns the IAM actions ("svc:Action") a CloudTrail (eventSource prefix, eventName)
    needs; an empty list when the event needs no permission."""
    if (source, name) in NO_IAM:
        return []
    if (source, name) in EVENT_RENAMES:
        return EVENT_RENAMES[(source, name)]
    return [PREFIX_RENAMES.get(source, source) + ":" + VERSION_SUFFIX.sub("", name)]


def parse_catalog():
    """Returns a list of dicts, one per catalog entry, in catalog order."""
    out = []
    for line in re.sub(r"\n ", " ", CATALOG.strip()).splitlines():
        src, items = line.split(":", 1)
        for item in items.split():
            data = item.endswith("!d")
            item = item[:-2] if data else item
            name, weight = item.split(":")
            out.append({
                "src": src, "name": name, "weight": float(weight), "data": data,
                "ro": name.startswith(READ_VERBS) or name in ("AssumeRole", "ConsoleLogin"),
                "global": src in GLOBAL_SOURCES, "iam": iam_actions_of(src, name),
            })
    return out


# ---------------------------------------------------------------------------------------------
# Small helpers

ALNUM_UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def rid(rng, prefix, n=16, alphabet=ALNUM_UP):
    return prefix + "".join(rng.choices(alphabet, k=n))


VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def uuid4(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], VARIANT[h[16]], h[17:20], h[20:])


def hexid(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def human_time(t):
    """CloudTrail's Java-style timestamps in some responseElements: 'Mar 3, 2026, 4:03:32 PM'."""
    g = time.gmtime(t)
    h = g.tm_hour % 12 or 12
    return "%s %d, %d, %d:%02d:%02d %s" % (time.strftime("%b", g), g.tm_mday, g.tm_year, h,
                                           g.tm_min, g.tm_sec, "AM" if g.tm_hour < 12 else "PM")


def public_ip(rng):
    while True:
        a = rng.randint(3, 223)
        if a not in (10, 100, 127, 169, 172, 192, 198):
            return "%d.%d.%d.%d" % (a, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"))


USER_AGENTS = [
    "aws-cli/2.15.{a} md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off "
    "md/command#{cmd}",
    "aws-cli/2.13.{a} Python/3.11.4 Darwin/23.1.0 exe/x86_64 prompt/off command/{cmd}",
    "Boto3/1.34.{a} md/Botocore#1.34.{a} ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.{a}",
    "aws-sdk-go-v2/1.25.{a} os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.{a}.0",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.{a} (+https://www.terraform.io) terraform-provider-aws/5.40.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 "
    "md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.{a}.0",
    "aws-sdk-java/1.12.{a} Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS "
    "java/17.0.10 vendor/Amazon.com_Inc. cfg/retry-mode/standard",
    "aws-sdk-js/3.529.{a} ua/2.0 os/linux#5.10.209-220.812.amzn2.x86_64 lang/js md/nodejs#20.11.1 "
    "api/{svc}#3.529.1",
]
CONSOLE_AGENTS = [
    "AWS Internal",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
]
LAMBDA_AGENT = ("Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.210-220.852.amzn2.x86_64 "
                "md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
                "cfg/retry-mode#legacy Botocore/1.34.42")
EC2_AGENT = ("aws-sdk-go/1.50.{a} (go1.21.6; linux; amd64) amazon-ssm-agent/3.3.{a}.0")


def agent_for(rng, template, svc="ec2"):
    return template.replace("{a}", str(rng.randint(10, 60))).replace("{svc}", svc).replace(
        "{cmd}", svc + ".describe-instances")


# ---------------------------------------------------------------------------------------------
# The account: resources, policies, principals.

SERVICE_SETS = {
    "compute": ["ec2", "autoscaling", "elasticloadbalancing", "ssm"],
    "serverless": ["lambda", "logs", "events", "states", "sqs", "sns", "dynamodb"],
    "containers": ["ecs", "ecr", "eks", "logs", "elasticloadbalancing"],
    "data": ["s3", "athena", "glue", "kms", "kinesis"],
    "security": ["iam", "cloudtrail", "guardduty", "securityhub", "config", "kms", "organizations"],
    "network": ["ec2", "route53", "cloudfront", "elasticloadbalancing", "acm"],
    "db": ["rds", "dynamodb", "secretsmanager"],
    "infra": ["cloudformation", "ssm", "s3", "iam"],
    "monitoring": ["monitoring", "logs", "health", "events", "tagging"],
}


def stmt(effect, actions, resource="*", **extra):
    s = {"Effect": effect, "Action": actions, "Resource": resource}
    s.update(extra)
    return s


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def read_patterns(svcs):
    out = []
    for s in svcs:
        p = PREFIX_RENAMES.get(s, s)
        out += [p + ":Describe*", p + ":List*", p + ":Get*"]
    return out


def full_patterns(svcs):
    return [PREFIX_RENAMES.get(s, s) + ":*" for s in svcs]


SECURITY_AUDIT = [
    "acm:Describe*", "acm:List*", "autoscaling:Describe*", "cloudformation:Describe*",
    "cloudformation:GetTemplate", "cloudformation:List*", "cloudfront:Get*", "cloudfront:List*",
    "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*", "cloudtrail:LookupEvents",
    "cloudwatch:Describe*", "cloudwatch:List*", "config:Describe*", "config:Get*", "config:List*",
    "dynamodb:Describe*", "dynamodb:List*", "ec2:Describe*", "ec2:GetEbsEncryptionByDefault",
    "ecr:Describe*", "ecr:GetRepositoryPolicy", "ecr:GetLifecyclePolicy", "ecs:Describe*",
    "ecs:List*", "eks:Describe*", "eks:List*", "elasticloadbalancing:Describe*",
    "events:Describe*", "events:List*", "guardduty:Get*", "guardduty:List*", "health:Describe*",
    "iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails", "iam:Get*",
    "iam:List*", "kinesis:Describe*", "kinesis:List*", "kms:Describe*", "kms:Get*", "kms:List*",
    "lambda:GetAccountSettings", "lambda:GetFunctionConfiguration", "lambda:GetPolicy",
    "lambda:List*", "logs:Describe*", "logs:ListTagsLogGroup", "organizations:Describe*",
    "organizations:List*", "rds:Describe*", "rds:ListTagsForResource", "route53:Get*",
    "route53:List*", "s3:GetAccelerateConfiguration", "s3:GetBucket*",
    "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration", "s3:ListAllMyBuckets", "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecrets", "securityhub:Describe*", "securityhub:Get*", "sns:Get*",
    "sns:List*", "sqs:Get*", "sqs:List*", "ssm:Describe*", "ssm:ListDocuments", "states:Describe*",
    "states:List*", "tag:Get*",
]


class Principal:
    """A user or a role, with the action mix it actually uses."""

    def __init__(self, kind, name, pid, arn):
        self.kind, self.name, self.pid, self.arn = kind, name, pid, arn
        self.allow, self.deny = [], []
        self.groups = []
        self.path = "/"
        self.chains = False               # may assume work roles (role chains start here)
        self.set_source_identity = False  # its SAML provider sends a SourceIdentity


def build_account(index, args, catalog, seed, people_on=False):
    rng = random.Random(seed * 7919 + index)
    acct = {"index": index, "name": "bench" if index == 0 else "bench%d" % (index + 1)}
    aid = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    acct["id"] = aid
    # Resources that requestParameters name.
    res = {
        "buckets": ["%s-%s" % (w, aid) for w in (
            "acme-logs", "acme-data-lake", "acme-artifacts", "acme-backups", "acme-static-site",
            "acme-terraform-state", "acme-athena-results", "acme-ml-datasets", "acme-exports",
            "acme-config-history", "acme-cloudtrail", "acme-media", "acme-reports", "acme-tmp")],
        "instances": ["i-0%s" % hexid(rng, 16) for _ in range(60)],
        "volumes": ["vol-0%s" % hexid(rng, 16) for _ in range(40)],
        "sgs": ["sg-0%s" % hexid(rng, 16) for _ in range(20)],
        "vpcs": ["vpc-0%s" % hexid(rng, 16) for _ in range(4)],
        "subnets": ["subnet-0%s" % hexid(rng, 16) for _ in range(12)],
        "amis": ["ami-0%s" % hexid(rng, 16) for _ in range(10)],
        "snapshots": ["snap-0%s" % hexid(rng, 16) for _ in range(20)],
        "functions": ["%s-%s" % (a, b) for a in ("ingest", "billing", "thumbnailer", "auth",
                                                 "notifier", "etl", "api", "cleanup")
                      for b in ("prod", "staging", "dev")],
        "tables": ["orders", "customers", "sessions", "inventory", "events", "audit-log",
                   "feature-flags", "carts", "payments", "shipments"],
        "keys": [uuid4(rng) for _ in range(8)],
        "secrets": ["%s/%s" % (e, s) for e in ("prod", "staging") for s in (
            "db/primary", "db/replica", "stripe/api-key", "github/token", "datadog/api-key",
            "smtp/password")],
        "queues": ["orders-queue", "orders-dlq", "emails", "thumbnails", "etl-jobs", "webhooks"],
        "topics": ["alerts", "deployments", "billing-events", "security-findings"],
        "clusters": ["prod", "staging", "batch"],
        "repos": ["api", "web", "worker", "etl", "base-images/python", "base-images/node"],
        "stacks": ["network", "vpc-prod", "vpc-staging", "api-prod", "api-staging", "data-lake",
                   "monitoring", "iam-baseline", "bastion", "ecs-cluster"],
        "dbs": ["orders-db", "analytics-db", "legacy-mysql", "reporting", "users-db"],
        "dbclusters": ["aurora-prod", "aurora-staging"],
        "zones": ["Z0%s" % rid(rng, "", 12) for _ in range(4)],
        "params": ["/%s/%s/%s" % (e, a, k) for e in ("prod", "staging") for a in ("api", "worker")
                   for k in ("db_host", "log_level", "feature_x", "endpoint")],
    }
    acct["res"] = res
    arn_iam = "arn:aws:iam::%s:" % aid

    # Managed policies (AWS-managed and customer-managed).
    policies = {}

    def policy(name, document, aws=False, versions=1):
        arn = ("arn:aws:iam::aws:policy/" if aws else arn_iam + "policy/") + name
        policies[name] = {"name": name, "arn": arn, "doc": document, "versions": versions}
        return name

    policy("AdministratorAccess", doc(stmt("Allow", "*")), aws=True)
    policy("SecurityAudit", doc(stmt("Allow", SECURITY_AUDIT)), aws=True)
    policy("DeveloperAccess", doc(
        stmt("Allow", full_patterns(SERVICE_SETS["serverless"] + ["ecs", "ecr"]) +
             read_patterns(["eks", "monitoring", "cloudformation"])),
        stmt("Deny", ["dynamodb:DeleteTable", "lambda:PutFunctionConcurrency"],
             "arn:aws:dynamodb:*:%s:table/*" % aid, Sid="ProtectProdTables")), versions=3)
    policy("DataAccess", doc(
        stmt("Allow", ["s3:*", "athena:*", "glue:*", "kinesis:Describe*", "kinesis:List*"]),
        stmt("Allow", ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ListAliases",
                       "kms:Encrypt"], ["arn:aws:kms:*:%s:key/%s" % (aid, k) for k in res["keys"]])))
    policy("OpsAccess", doc(
        stmt("Allow", full_patterns(SERVICE_SETS["compute"] + SERVICE_SETS["network"] +
                                    SERVICE_SETS["monitoring"] + ["cloudformation"])),
        stmt("Allow", ["s3:Get*", "s3:List*", "kms:Decrypt", "kms:DescribeKey", "kms:ListAliases"]),
        stmt("Allow", "iam:PassRole", arn_iam + "role/role*")), versions=2)
    policy("DatabaseAdmin", doc(
        stmt("Allow", full_patterns(SERVICE_SETS["db"]) + ["kms:Decrypt", "kms:DescribeKey"])))
    policy("SelfService", doc(
        stmt("Allow", ["iam:GetUser", "iam:ChangePassword", "iam:ListMFADevices",
                       "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:GetLoginProfile"],
             arn_iam + "user/${aws:username}", Sid="OwnUser"),
        stmt("Allow", ["iam:GetAccountPasswordPolicy", "iam:ListAccountAliases"]),
        stmt("Deny", ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                      "cloudtrail:PutEventSelectors"], Sid="NoTrailTampering")))
    policy("AssumeWorkRoles", doc(stmt("Allow", "sts:AssumeRole", arn_iam + "role/role*")))
    policy("LambdaBasicExecution", doc(
        stmt("Allow", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])))

    groups = {
        "everyone": {"managed": ["SelfService"], "inline": []},
        "readers": {"managed": ["SecurityAudit"], "inline": []},
        "developers": {"managed": ["DeveloperAccess"], "inline": [
            ("developer-extras", doc(stmt("Allow", ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                                          ["arn:aws:s3:::acme-artifacts-%s" % aid,
                                           "arn:aws:s3:::acme-artifacts-%s/*" % aid])))]},
        "data": {"managed": ["DataAccess"], "inline": []},
        "ops": {"managed": ["OpsAccess", "AssumeWorkRoles"], "inline": []},
        "dba": {"managed": ["DatabaseAdmin"], "inline": []},
        "admins": {"managed": [], "inline": [
            ("assume-admin", doc(stmt("Allow", "sts:AssumeRole", arn_iam + "role/admin",
                                      Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})))]},
    }

    def grant(p, managed=(), inline=()):
        docs = [policies[m]["doc"] for m in managed] + [d for _, d in inline]
        for d in docs:
            for s in d["Statement"]:
                acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                # A Deny limited to some resources still allows the action elsewhere: only
                # resource-wide denies take an action out of what the principal uses.
                if s["Effect"] == "Allow":
                    p.allow += [a.lower() for a in acts]
                elif s["Resource"] == "*":
                    p.deny += [a.lower() for a in acts]

    # Users.
    users = []
    for i in range(args.users):
        name = "user%03d" % i
        u = Principal("user", name, rid(rng, "AIDA", 17), arn_iam + "user/" + name)
        if i == 0:
            u.groups = ["everyone", "readers", "developers", "ops", "admins"]
        else:
            u.groups = ["everyone"] + rng.sample(["readers", "developers", "data", "ops", "dba"],
                                                 rng.choice((1, 1, 1, 2, 2, 3)))
            if rng.random() < 0.12:
                u.groups.append("admins")
        u.managed = ["DataAccess"] if (i and rng.random() < 0.08) else []
        u.inline = []
        if i == 0 or rng.random() < 0.2:
            extra = rng.choice([["sqs:SendMessage", "sqs:GetQueueAttributes"],
                                ["secretsmanager:GetSecretValue"], ["ce:Get*"],
                                ["tag:GetResources", "tag:TagResources"],
                                ["states:StartExecution", "states:Describe*"]])
            u.inline = [("%s-extra" % name, doc(stmt("Allow", extra)))]
        for g in u.groups:
            grant(u, groups[g]["managed"], groups[g]["inline"])
        grant(u, u.managed, u.inline)
        u.keys = [rid(rng, "AKIA") for _ in range(rng.choice((1, 1, 2)))]
        u.ips = [public_ip(rng) for _ in range(rng.choice((1, 2, 3)))]
        u.agents = [agent_for(rng, t) for t in rng.sample(USER_AGENTS, rng.choice((1, 2, 3)))]
        u.console = 0.0 if rng.random() < 0.5 else rng.choice((0.05, 0.2, 0.5))
        users.append(u)

    # Roles: admin, a few service roles (Lambda, EC2), and work roles assumed by people.
    roles = []
    admin = Principal("role", "admin", rid(rng, "AROA", 17), arn_iam + "role/admin")
    admin.kind2, admin.managed, admin.inline = "admin", ["AdministratorAccess"], []
    admin.trust = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % aid},
                       "Action": "sts:AssumeRole",
                       "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
    grant(admin, admin.managed, admin.inline)
    roles.append(admin)
    n_service = max(1, (args.roles - 1) // 8) if args.roles > 2 else 0
    for i in range(args.roles - 1):
        name = "role%02d" % i
        r = Principal("role", name, rid(rng, "AROA", 17), arn_iam + "role/" + name)
        sets = rng.sample(sorted(SERVICE_SETS), rng.choice((1, 1, 2)))
        svcs = sorted({s for k in sets for s in SERVICE_SETS[k]})
        r.svcs = svcs
        if i < n_service:
            r.kind2 = rng.choice(("lambda", "lambda", "ec2"))
            r.trust = doc({"Effect": "Allow", "Principal": {"Service": "%s.amazonaws.com" % r.kind2},
                           "Action": "sts:AssumeRole"})
            r.managed = ["LambdaBasicExecution"]
            r.inline = [("%s-access" % name, doc(stmt("Allow", read_patterns(svcs) + [
                "s3:GetObject", "s3:PutObject", "dynamodb:GetItem", "dynamodb:PutItem",
                "dynamodb:Query", "kms:Decrypt", "kms:GenerateDataKey", "sqs:*", "ssm:GetParameter*",
                "ssm:UpdateInstanceInformation", "secretsmanager:GetSecretValue"])))]
        else:
            r.kind2 = "work"
            r.trust = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % aid},
                           "Action": "sts:AssumeRole"})
            pats = full_patterns(svcs) if rng.random() < 0.4 else read_patterns(svcs) + [
                PREFIX_RENAMES.get(s, s) + ":" + rng.choice(("Create*", "Update*", "Put*", "Tag*"))
                for s in svcs]
            r.managed = ["SecurityAudit"] if "security" in sets else []
            r.inline = [("%s-access" % name, doc(stmt("Allow", pats)))]
        grant(r, r.managed, r.inline)
        roles.append(r)
    for r in roles:
        r.ips = [public_ip(rng) for _ in range(2)]
        svc = r.svcs[0] if getattr(r, "svcs", None) else "ec2"
        if r.kind2 == "lambda":
            r.agents = [LAMBDA_AGENT]
        elif r.kind2 == "ec2":
            r.agents = [agent_for(rng, EC2_AGENT)]
        else:
            r.agents = [agent_for(rng, t, svc) for t in rng.sample(USER_AGENTS, 2)]
    acct["base_roles"] = len(roles)
    if people_on:
        # Appended after the other roles, from a random stream of their own: the principals
        # above keep their names, ids and (below) the actions they use.
        add_people_roles(acct, random.Random(seed * 7919 + index + 500009), roles, grant)

    # What each principal actually calls: a random subset of the catalog entries its policies
    # allow (so most granted actions go unused), with skewed per-principal weights.
    for p in users + roles:
        frac = 0.85 if p.name in ("user000", "admin") else 0.45
        idx, w = [], []
        for ai, a in enumerate(catalog):
            if a["src"] == "signin" and p.kind != "user":
                continue
            if a["iam"] and not all(allowed(p, x) for x in a["iam"]):
                continue
            if a["iam"] and rng.random() > frac:
                continue
            idx.append(ai)
            w.append(a["weight"] * rng.lognormvariate(0, 1.2))
        p.profile = make_profile(idx, w, catalog)

    acct["policies"], acct["groups"], acct["users"], acct["roles"] = policies, groups, users, roles
    return acct


# IAM Identity Center permission sets: (name, how often people are assigned it, AWS- or
# customer-managed policies, inline policy actions, whether its sessions assume work roles).
PERMISSION_SETS = [
    ("AdministratorAccess", 3, ["AdministratorAccess"], None, True),
    ("PowerUserAccess", 8, [], full_patterns(sorted(set(
        SERVICE_SETS["compute"] + SERVICE_SETS["serverless"] + SERVICE_SETS["containers"] +
        SERVICE_SETS["data"] + SERVICE_SETS["db"] + SERVICE_SETS["monitoring"]))), True),
    ("ReadOnlyAccess", 20, ["SecurityAudit"], read_patterns(sorted({
        x for v in SERVICE_SETS.values() for x in v})), False),
    ("DeveloperAccess", 16, ["DeveloperAccess"], ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], False),
    ("DataScientist", 8, ["DataAccess"], None, False),
    ("DatabaseAdministrator", 3, ["DatabaseAdmin"], None, False),
    ("NetworkAdministrator", 2, [], full_patterns(SERVICE_SETS["network"]), False),
    ("OpsEngineer", 6, ["OpsAccess", "AssumeWorkRoles"], None, True),
    ("Billing", 1, [], ["ce:*", "tag:GetResources", "tag:GetTagKeys"], False),
]
# The roles of another SAML identity provider (Okta): (name, weight, managed, inline actions,
# chains, whether the IdP sends a SourceIdentity).
OKTA_ROLES = [
    ("okta-engineers", 5, ["AssumeWorkRoles"], full_patterns(SERVICE_SETS["serverless"] + SERVICE_SETS["containers"]),
     True, True),
    ("okta-readonly", 3, ["SecurityAudit"], None, False, False),
    ("okta-data", 2, ["DataAccess"], None, False, False),
]
SAML_AUD = "https://signin.aws.amazon.com/saml"


def b64id(rng, n):
    return base64.b64encode(rng.randbytes(n)).decode()


def add_people_roles(acct, rng, roles, grant):
    """The roles people reach through SAML and applications: the Identity Center permission
    sets (AWSReservedSSO_<set>_<16 hex> under /aws-reserved/sso.amazonaws.com/, trusting the
    account's AWSSSO_<id>_DO_NOT_DELETE SAML provider), the Okta provider's roles, and an
    application (reports-app) whose backend assumes it on behalf of Identity Center users."""
    aid = acct["id"]
    arn_iam = "arn:aws:iam::%s:" % aid
    acct["saml"] = {
        "idc": {"arn": arn_iam + "saml-provider/AWSSSO_%s_DO_NOT_DELETE" % hexid(rng, 16),
                "qualifier": b64id(rng, 20)},
        "okta": {"arn": arn_iam + "saml-provider/Okta", "qualifier": b64id(rng, 20),
                 "issuer": "http://www.okta.com/exk%s" % rid(rng, "", 17, ALNUM)},
    }
    pr = {"sso": {}, "okta": {}}

    def role(name, path, kind2, trust, managed, inline):
        r = Principal("role", name, rid(rng, "AROA", 17), arn_iam + "role" + path + name)
        r.path, r.kind2, r.trust, r.managed, r.inline = path, kind2, trust, managed, inline
        grant(r, managed, inline)
        r.ips = [public_ip(rng)]
        r.agents = [agent_for(rng, USER_AGENTS[0])]
        roles.append(r)
        return len(roles) - 1, r

    def saml_trust(provider, source_identity=False):
        acts = ["sts:AssumeRoleWithSAML", "sts:TagSession"] + (["sts:SetSourceIdentity"] if source_identity else [])
        return doc({"Effect": "Allow", "Principal": {"Federated": provider}, "Action": acts,
                    "Condition": {"StringEquals": {"SAML:aud": SAML_AUD}}})

    for name, _, managed, acts, chains in PERMISSION_SETS:
        sts = [] if not chains or {"AdministratorAccess", "AssumeWorkRoles"} & set(managed) else [
            stmt("Allow", "sts:AssumeRole", arn_iam + "role/role*")]
        # A permission set's own statements are one inline policy of this name in each account.
        inline = [("AwsSSOInlinePolicy", doc(*([stmt("Allow", acts)] if acts else []) + sts))] if acts or sts else []
        i, r = role("AWSReservedSSO_%s_%s" % (name, hexid(rng, 16)), "/aws-reserved/sso.amazonaws.com/", "sso",
                    saml_trust(acct["saml"]["idc"]["arn"]), managed, inline)
        r.chains = chains
        pr["sso"][name] = i
    for name, _, managed, acts, chains, srcid in OKTA_ROLES:
        i, r = role(name, "/", "saml", saml_trust(acct["saml"]["okta"]["arn"], srcid), managed,
                    [("%s-access" % name, doc(stmt("Allow", acts)))] if acts else [])
        r.chains, r.set_source_identity = chains, srcid
        pr["okta"][name] = i
    app_arn = arn_iam + "role/reports-app"
    i, r = role("reports-backend", "/", "tipbackend", doc(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        ["LambdaBasicExecution"], [("reports-backend-access", doc(
            stmt("Allow", ["sts:AssumeRole", "sts:SetContext"], app_arn),
            stmt("Allow", ["ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt"])))])
    r.agents = [LAMBDA_AGENT]
    pr["tip_backend"] = i
    i, r = role("reports-app", "/", "tipapp", doc(
        {"Effect": "Allow", "Principal": {"AWS": roles[pr["tip_backend"]].arn},
         "Action": ["sts:AssumeRole", "sts:SetContext"]}), [], [("reports-app-access", doc(stmt("Allow", [
            "athena:*", "glue:Get*", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "kms:Decrypt"])))])
    r.agents = [LAMBDA_AGENT]
    pr["tip_app"] = i
    acct["people_roles"] = pr


FIRST_NAMES = """ada alan alice amara anil ana ben bianca carlos chen chloe dana david diego elena emma
fatima felix grace hana hugo ines ivan jack jamal jin julia kai kenji lars laura leila liam lucia
maria mateo mei mohamed nadia naomi nina noah olga omar oscar priya quinn rahul rosa sami sara
sofia tariq tom uma victor wei yara yusuf zoe""".split()
LAST_NAMES = """abbott adeyemi alvarez andersen bauer becker brown chen costa da-silva dubois eriksen
fischer garcia gonzalez gupta hansen hoffmann ito jansen johnson kim kowalski kumar larsen lee
lopez martin meyer moreau muller nakamura nguyen novak okafor olsen patel perez petrov rossi
sato schmidt singh smith suzuki tanaka taylor thomas wagner walker wang weber williams wilson
yamamoto young zhang""".split()


class Person:
    """Someone behind roles: an Identity Center user, a user of the other SAML provider, or
    both (the same e-mail)."""
    __slots__ = ("email", "display", "uid", "kind", "sets", "okta", "ips", "agents", "weight", "home",
                 "dormant")


def make_people(n, n_accounts, seed):
    """n people who act, plus n/20 Identity Center users who never do, and the identity store
    they are in. Own random stream: the rest of the archive does not depend on it."""
    rng = random.Random(seed * 6151 + 3)
    store = {"id": "d-" + hexid(rng, 10),
             "issuer": "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/" + b64id(rng, 9)}
    set_names, set_w = [x[0] for x in PERMISSION_SETS], [x[1] for x in PERMISSION_SETS]
    okta_names, okta_w = [x[0] for x in OKTA_ROLES], [x[1] for x in OKTA_ROLES]
    ranks = list(range(1, n + 1))
    rng.shuffle(ranks)
    people, seen = [], set()
    for i in range(n + n // 20):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        base, k = "%s.%s" % (first, last), 2
        email = base + "@example.com"
        while email in seen:
            email, k = "%s%d@example.com" % (base, k), k + 1
        seen.add(email)
        p = Person()
        p.email, p.uid = email, uuid4(rng)
        p.display = "%s %s" % (first.capitalize(), last.replace("-", " ").title())
        p.dormant = i >= n
        x = rng.random()
        p.kind = "idc" if (x < 0.8 or p.dormant) else ("okta" if x < 0.92 else "both")
        p.sets, p.okta = [], []
        if p.kind != "okta":
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                c = rng.choices(set_names, set_w)[0]
                if c not in p.sets:
                    p.sets.append(c)
        if p.kind != "idc":
            p.okta = sorted(set(rng.choices(okta_names, okta_w, k=rng.choice((1, 1, 2)))))
        p.ips = [public_ip(rng) for _ in range(rng.choice((1, 2)))]
        p.agents = [agent_for(rng, t) for t in rng.sample(USER_AGENTS[:3], rng.choice((1, 2)))]
        p.weight = 1.0 / ranks[i] ** 0.6 if i < n else 0.0  # activity: a mild Zipf law
        p.home = i % n_accounts
        people.append(p)
    return people, store


def identity_store_doc(people, store):
    """`aws identitystore list-users --identity-store-id d-...`: the Identity Center users."""
    users = []
    for p in people:
        if p.kind == "okta":
            continue
        first, last = p.display.split(" ", 1)
        users.append({"UserName": p.email, "UserId": p.uid, "IdentityStoreId": store["id"],
                      "DisplayName": p.display, "Name": {"GivenName": first, "FamilyName": last},
                      "Emails": [{"Value": p.email, "Type": "work", "Primary": True}]})
    return {"Users": users}


_PATTERN_RE = {}


def pattern_re(pats):
    """One compiled regex matching any of the IAM wildcard patterns (memoized: many principals
    share the same set)."""
    r = _PATTERN_RE.get(pats)
    if r is None:
        r = _PATTERN_RE[pats] = re.compile("|".join(fnmatch.translate(x) for x in pats) or "(?!)")
    return r


def allowed(p, action):
    """Whether the principal's resource-wide statements allow `action` (wildcards as in IAM)."""
    if not hasattr(p, "allow_re"):
        p.allow_re, p.deny_re = pattern_re(tuple(sorted(set(p.allow)))), pattern_re(tuple(sorted(set(p.deny))))
    a = action.lower()
    return p.allow_re.match(a) is not None and p.deny_re.match(a) is None


def make_profile(idx, w, catalog):
    """Returns ((indices, cumweights) for us-east-1, (indices, cumweights) for other regions)."""
    def cum(pairs):
        if not pairs:
            pairs = [(i, 1.0) for i, a in enumerate(catalog) if a["name"] == "GetCallerIdentity"]
        out, tot = [], 0.0
        for _, x in pairs:
            tot += x
            out.append(tot)
        return [i for i, _ in pairs], out
    allp = list(zip(idx, w))
    return cum(allp), cum([(i, x) for i, x in allp if not catalog[i]["global"]])


def auth_details(acct):
    """The account's `aws iam get-account-authorization-details` document."""
    aid, pol = acct["id"], acct["policies"]
    rng = random.Random(int(aid))

    def attached(names):
        return [{"PolicyName": n, "PolicyArn": pol[n]["arn"]} for n in names]

    def inline(items):
        return [{"PolicyName": n, "PolicyDocument": d} for n, d in items]

    users = [{"Path": "/", "UserName": u.name, "UserId": u.pid, "Arn": u.arn,
              "CreateDate": "20%02d-%02d-%02dT%02d:%02d:%02dZ" % (
                  rng.randint(18, 24), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                  rng.randint(0, 59), rng.randint(0, 59)),
              "UserPolicyList": inline(u.inline), "GroupList": u.groups,
              "AttachedManagedPolicies": attached(u.managed), "Tags": []}
             for u in acct["users"]]
    groups = [{"Path": "/", "GroupName": g, "GroupId": rid(rng, "AGPA", 17),
               "Arn": "arn:aws:iam::%s:group/%s" % (aid, g), "CreateDate": "2019-05-02T10:00:00Z",
               "GroupPolicyList": inline(v["inline"]), "AttachedManagedPolicies": attached(v["managed"])}
              for g, v in acct["groups"].items()]
    roles = [{"Path": r.path, "RoleName": r.name, "RoleId": r.pid, "Arn": r.arn,
              "CreateDate": "2020-03-1%dT09:00:00Z" % (i % 10),
              "AssumeRolePolicyDocument": r.trust, "InstanceProfileList": [],
              "RolePolicyList": inline(r.inline), "AttachedManagedPolicies": attached(r.managed),
              "Tags": [], "RoleLastUsed": {}}
             for i, r in enumerate(acct["roles"])]
    count = {}
    for holder in acct["users"] + acct["roles"]:
        for m in holder.managed:
            count[m] = count.get(m, 0) + 1
    for g in acct["groups"].values():
        for m in g["managed"]:
            count[m] = count.get(m, 0) + 1
    policies = []
    for n, p in pol.items():
        versions = []
        for v in range(p["versions"], 0, -1):
            d = p["doc"]
            if v != p["versions"]:  # older versions allowed a little less
                d = {"Version": d["Version"], "Statement": d["Statement"][:1]}
            versions.append({"Document": d, "VersionId": "v%d" % v,
                             "IsDefaultVersion": v == p["versions"],
                             "CreateDate": "2021-0%d-01T00:00:00Z" % v})
        policies.append({"PolicyName": n, "PolicyId": rid(rng, "ANPA", 17), "Arn": p["arn"],
                         "Path": "/", "DefaultVersionId": "v%d" % p["versions"],
                         "AttachmentCount": count.get(n, 0), "PermissionsBoundaryUsageCount": 0,
                         "IsAttachable": True, "CreateDate": "2019-04-01T00:00:00Z",
                         "UpdateDate": "2021-0%d-01T00:00:00Z" % p["versions"],
                         "PolicyVersionList": versions})
    return {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
            "Policies": policies}


# ---------------------------------------------------------------------------------------------
# requestParameters / responseElements: a pool of a few shapes per catalog entry.

POOL_SIZE = 24


def generic_resources(acct):
    """(requestParameters key, candidate values) per eventSource for the services without a
    hand-written shape; computed once per account."""
    if "generic" in acct:
        return acct["generic"]
    rng = random.Random(int(acct["id"]) + 17)
    res, aid = acct["res"], acct["id"]
    acct["generic"] = {
        "ecr": ("repositoryName", res["repos"]), "ecs": ("cluster", res["clusters"]),
        "ssm": ("name", res["params"]), "secretsmanager": ("secretId", res["secrets"]),
        "sns": ("topicArn", ["arn:aws:sns:us-east-1:%s:%s" % (aid, t) for t in res["topics"]]),
        "sqs": ("queueUrl", ["https://sqs.us-east-1.amazonaws.com/%s/%s" % (aid, q) for q in res["queues"]]),
        "cloudformation": ("stackName", res["stacks"]), "cloudtrail": ("name", ["management-events"]),
        "elasticloadbalancing": ("targetGroupArn", [
            "arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/%s" % (aid, t, hexid(rng, 16))
            for t in ("api", "web", "admin")]),
        "autoscaling": ("autoScalingGroupNames", [["asg-" + c] for c in res["clusters"]]),
        "route53": ("hostedZoneId", res["zones"]), "glue": ("databaseName", ["raw", "curated", "analytics"]),
        "athena": ("workGroup", ["primary", "analysts", "etl"]), "events": ("name", ["nightly-etl", "ecr-scan", "guardduty-findings"]),
        "states": ("stateMachineArn", ["arn:aws:states:us-east-1:%s:stateMachine:%s" % (aid, s) for s in ("etl", "signup", "refund")]),
        "kinesis": ("streamName", ["clickstream", "audit"]), "eks": ("name", ["prod-eks", "staging-eks"]),
        "acm": ("certificateArn", ["arn:aws:acm:us-east-1:%s:certificate/%s" % (aid, uuid4(rng)) for _ in range(3)]),
        "guardduty": ("detectorId", [hexid(rng, 32)]), "config": ("configRuleNames", [["s3-bucket-public-read-prohibited"], ["iam-user-mfa-enabled"]]),
        "cloudfront": ("id", ["E" + rid(rng, "", 13) for _ in range(3)]),
        "organizations": ("accountId", [aid]), "monitoring": ("alarmNames", [["%s-%s" % (x, y)] for x in ("HighCPU", "5xx", "QueueDepth") for y in ("prod", "staging")]),
    }
    return acct["generic"]


def params_for(rng, a, acct):
    """Returns (requestParameters JSON, responseElements JSON, extra fields JSON-fragment)."""
    src, name, res, aid = a["src"], a["name"], acct["res"], acct["id"]
    verb = re.match(r"[A-Z][a-z]+", name).group(0)
    req, resp, extra = None, None, ""
    pick = rng.choice
    if src == "ec2":
        inst = pick(res["instances"])
        if name == "DescribeInstances":
            req = pick([{"instancesSet": {}, "filterSet": {}},
                        {"instancesSet": {"items": [{"instanceId": inst}]}, "filterSet": {}},
                        {"maxResults": 1000, "instancesSet": {}, "filterSet": {"items": [
                            {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}}])
        elif name in ("StartInstances", "StopInstances", "TerminateInstances", "RebootInstances"):
            req = {"instancesSet": {"items": [{"instanceId": inst}]}}
            if name != "RebootInstances":
                st = {"StartInstances": (16, "running", 80, "stopped")}.get(name, (64, "stopping", 16, "running"))
                resp = {"requestId": uuid4(rng), "instancesSet": {"items": [{
                    "instanceId": inst, "currentState": {"code": st[0], "name": st[1]},
                    "previousState": {"code": st[2], "name": st[3]}}]}}
        elif name == "RunInstances":
            req = {"instancesSet": {"items": [{"imageId": pick(res["amis"]), "minCount": 1, "maxCount": 1}]},
                   "instanceType": pick(["t3.micro", "t3.large", "m6i.xlarge", "c7g.2xlarge"]),
                   "blockDeviceMapping": {}, "monitoring": {"enabled": False},
                   "subnetId": pick(res["subnets"]), "disableApiTermination": False,
                   "clientToken": uuid4(rng), "iamInstanceProfile": {"name": "role00"}}
            resp = {"requestId": uuid4(rng), "reservationId": "r-0" + hexid(rng, 16),
                    "ownerId": aid, "groupSet": {}, "instancesSet": {"items": [{
                        "instanceId": inst, "imageId": pick(res["amis"]),
                        "currentInstanceBoot": {"code": 0, "name": "pending"},
                        "privateDnsName": "ip-10-0-%d-%d.ec2.internal" % (rng.randint(0, 255), rng.randint(1, 254)),
                        "amiLaunchIndex": 0, "productCodes": {}, "instanceType": "t3.large",
                        "launchTime": 1700000000000, "placement": {"availabilityZone": "us-east-1a", "tenancy": "default"},
                        "monitoring": {"state": "disabled"}, "subnetId": pick(res["subnets"]),
                        "vpcId": pick(res["vpcs"]), "privateIpAddress": "10.0.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
                        "stateReason": {"code": "pending", "message": "pending"}, "architecture": "x86_64",
                        "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda", "ebsOptimized": False}]}}
        elif name in ("CreateTags", "DeleteTags"):
            req = {"resourcesSet": {"items": [{"resourceId": pick(res["instances"] + res["volumes"])}]},
                   "tagSet": {"items": [{"key": pick(["Name", "env", "owner", "cost-center"]),
                                         "value": pick(["prod", "staging", "team-data", "42"])}]}}
            resp = {"requestId": uuid4(rng), "_return": True}
        elif "Volume" in name:
            req = {"volumeSet": {"items": [{"volumeId": pick(res["volumes"])}]}} if verb == "Describe" else \
                {"volumeId": pick(res["volumes"]), "instanceId": inst, "device": "/dev/sdf"}
        elif "SecurityGroup" in name:
            sg = pick(res["sgs"])
            req = {"groupId": sg, "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}} if "Ingress" in name else \
                {"securityGroupIdSet": {"items": [{"groupId": sg}]}, "filterSet": {}}
            if "Authorize" in name:
                resp = {"requestId": uuid4(rng), "_return": True, "securityGroupRuleSet": {"items": [{
                    "groupOwnerId": aid, "groupId": sg, "securityGroupRuleId": "sgr-0" + hexid(rng, 16),
                    "isEgress": False, "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}]}}
        elif "Snapshot" in name:
            req = {"snapshotId": pick(res["snapshots"])} if verb != "Describe" else {
                "ownersSet": {"items": [{"owner": "self"}]}, "snapshotSet": {}, "filterSet": {}}
        elif name == "DescribeInstanceAttribute":
            req = {"instanceId": inst, "attribute": pick(["userData", "disableApiTermination", "instanceType"])}
        elif name == "GetConsoleOutput" or name == "GetPasswordData":
            req = {"instanceId": inst}
        elif verb == "Describe":
            req = pick([{}, {"filterSet": {}}, {"maxResults": 1000},
                        {"filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": pick(res["vpcs"])}]}}]}}])
        else:
            req = {"clientToken": uuid4(rng), "dryRun": False}
            resp = {"requestId": uuid4(rng), "_return": True}
    elif src == "s3":
        b = pick(res["buckets"])
        host = "%s.s3.amazonaws.com" % b
        bucket_res = {"accountId": aid, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::" + b}
        ev = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
              "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
              "x-amz-id-2": base64.b64encode(rng.randbytes(57)).decode(), "bytesTransferredOut": 0}
        if name == "ListBuckets":
            req = {"Host": "s3.amazonaws.com"}
            extra = ',"additionalEventData":' + jdump(ev)
        elif a["data"] and name not in ("HeadBucket", "ListObjects"):
            key = "%s/%04d/%02d/part-%05d-%s.%s" % (pick(["raw", "curated", "exports", "uploads"]),
                                                     rng.randint(2024, 2026), rng.randint(1, 12),
                                                     rng.randint(0, 999), uuid4(rng)[:8],
                                                     pick(["parquet", "json.gz", "csv", "png"]))
            req = {"bucketName": b, "Host": host, "key": key}
            if name == "CopyObject":
                req["x-amz-copy-source"] = "%s/%s" % (pick(res["buckets"]), key)
            ev["bytesTransferredOut" if name == "GetObject" else "bytesTransferredIn"] = rng.randint(100, 5000000)
            extra = (',"additionalEventData":' + jdump(ev) + ',"resources":' + jdump([
                {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::%s/%s" % (b, key)}, bucket_res]))
            if name in ("PutObject", "CopyObject", "CreateMultipartUpload"):
                resp = {"x-amz-server-side-encryption": "AES256", "x-amz-version-id": rid(rng, "", 32, ALNUM)}
        else:
            sub = re.sub(r"^(Get|Put|Delete|Create)Bucket", "", name).lower() or None
            req = {"bucketName": b, "Host": host}
            if sub and verb in ("Get", "Put", "Delete"):
                req[sub] = ""
            if name == "ListObjects":
                req.update({"prefix": pick(["", "raw/", "exports/2026/"]), "list-type": 2,
                            "encoding-type": "url", "max-keys": 1000})
            if name == "PutBucketPolicy":
                req["bucketPolicy"] = {"Version": "2012-10-17", "Statement": [{
                    "Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::" + b, "arn:aws:s3:::%s/*" % b],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
            extra = (',"additionalEventData":' + jdump(ev) + ',"resources":' + jdump([bucket_res]))
    elif src == "iam":
        role, user = pick(acct["roles"]).name, pick(acct["users"]).name
        pol = pick(list(acct["policies"].values()))
        if "Role" in name and "Roles" not in name and name != "CreateServiceLinkedRole":
            req = {"roleName": role}
            if "RolePolic" in name and "Attached" not in name:
                req["policyName"] = role + "-access"
            if name in ("AttachRolePolicy", "DetachRolePolicy"):
                req["policyArn"] = pol["arn"]
            if name == "CreateRole":
                req.update({"path": "/", "assumeRolePolicyDocument": jdump(doc(
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})),
                    "description": "created by terraform"})
                resp = {"role": {"path": "/", "roleName": role, "roleId": rid(rng, "AROA", 17),
                                 "arn": "arn:aws:iam::%s:role/%s" % (aid, role),
                                 "createDate": human_time(1700000000 + rng.randint(0, 9 ** 8)),
                                 "assumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"}}
        elif name in ("GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "ListEntitiesForPolicy",
                      "CreatePolicyVersion", "DeletePolicyVersion"):
            req = {"policyArn": pol["arn"]}
            if "PolicyVersion" in name and name != "ListPolicyVersions":
                req["versionId"] = "v%d" % pol["versions"]
        elif name == "CreatePolicy":
            req = {"policyName": "custom-%s" % hexid(rng, 6), "policyDocument": jdump(doc(stmt("Allow", "s3:GetObject")))}
            resp = {"policy": {"policyName": req["policyName"], "policyId": rid(rng, "ANPA", 17),
                               "arn": "arn:aws:iam::%s:policy/%s" % (aid, req["policyName"]),
                               "path": "/", "defaultVersionId": "v1", "attachmentCount": 0,
                               "permissionsBoundaryUsageCount": 0, "isAttachable": True,
                               "createDate": human_time(1700000000), "updateDate": human_time(1700000000)}}
        elif "Group" in name and name != "ListGroups":
            req = {"groupName": pick(list(acct["groups"]))}
            if "User" in name:
                req["userName"] = user
        elif "User" in name or "AccessKey" in name or "LoginProfile" in name or name in (
                "ListMFADevices", "ChangePassword"):
            req = {"userName": user} if name not in ("ListUsers", "GetAccessKeyLastUsed", "ChangePassword") else None
            if name == "GetAccessKeyLastUsed":
                req = {"accessKeyId": pick(acct["users"]).keys[0]}
            if name == "CreateAccessKey":
                resp = {"accessKey": {"userName": user, "accessKeyId": rid(rng, "AKIA"),
                                      "status": "Active", "createDate": human_time(1700000000)}}
        elif "InstanceProfile" in name and name != "ListInstanceProfiles":
            req = {"roleName": role} if "ForRole" in name else {"instanceProfileName": role}
        elif name.startswith("List"):
            req = pick([None, {"maxItems": 100}, {"scope": "Local", "onlyAttached": True}]
                       if name == "ListPolicies" else [None, {"maxItems": 1000}])
    elif src == "sts":
        req = None
    elif src == "kms":
        key = pick(res["keys"])
        karn = "arn:aws:kms:us-east-1:%s:key/%s" % (aid, key)
        ctx = pick([{"aws:s3:arn": "arn:aws:s3:::%s" % pick(res["buckets"])},
                    {"aws:lambda:FunctionArn": "arn:aws:lambda:us-east-1:%s:function:%s" % (aid, pick(res["functions"]))},
                    {"SecretARN": "arn:aws:secretsmanager:us-east-1:%s:secret:%s-%s" % (aid, pick(res["secrets"]), rid(rng, "", 6, ALNUM)),
                     "SecretVersionId": uuid4(rng)},
                    {"aws:ebs:id": pick(res["volumes"])}])
        if name in ("Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncrypt"):
            req = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": ctx}
            if name != "Decrypt" or rng.random() < 0.3:
                req["keyId"] = pick([karn, "alias/aws/s3", "alias/app-" + pick(["prod", "staging"])])
            if name.startswith("GenerateDataKey"):
                req["keySpec"] = "AES_256"
        elif name in ("ListKeys", "ListAliases"):
            req = pick([None, {"limit": 100}])
        elif name == "CreateGrant":
            req = {"keyId": karn, "granteePrincipal": "ebs.us-east-1.amazonaws.com",
                   "operations": ["Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom"],
                   "constraints": {"encryptionContextSubset": ctx}}
            resp = {"grantId": hexid(rng, 64)}
        else:
            req = {"keyId": karn}
        if name != "ListKeys" and name != "ListAliases":
            extra = ',"resources":' + jdump([{"accountId": aid, "type": "AWS::KMS::Key", "ARN": karn}])
    elif src == "lambda":
        fn = pick(res["functions"])
        farn = "arn:aws:lambda:us-east-1:%s:function:%s" % (aid, fn)
        if name.startswith(("ListFunctions", "ListLayers", "GetAccountSettings")):
            req = pick([None, {"functionVersion": "ALL"}, {"maxItems": 50}])
        else:
            req = {"functionName": fn}
        if name.startswith(("UpdateFunctionCode", "UpdateFunctionConfiguration", "CreateFunction",
                            "PublishVersion")):
            if name.startswith("UpdateFunctionCode"):
                req.update({"publish": False, "dryRun": False, "architectures": ["x86_64"]})
            elif name.startswith("UpdateFunctionConfiguration"):
                req.update({"memorySize": pick([256, 512, 1024]), "timeout": pick([30, 60, 900]),
                            "environment": {}})
            resp = {"functionName": fn, "functionArn": farn, "runtime": pick(["python3.12", "nodejs20.x"]),
                    "role": "arn:aws:iam::%s:role/role00" % aid, "handler": "app.handler",
                    "codeSize": rng.randint(1000, 50000000), "description": "", "timeout": 30,
                    "memorySize": 512, "lastModified": "2026-01-0%dT10:00:00.000+0000" % rng.randint(1, 9),
                    "codeSha256": base64.b64encode(rng.randbytes(32)).decode(), "version": "$LATEST",
                    "tracingConfig": {"mode": "PassThrough"}, "revisionId": uuid4(rng), "state": "Active",
                    "lastUpdateStatus": "InProgress", "lastUpdateStatusReason": "The function is being created.",
                    "lastUpdateStatusReasonCode": "Creating", "packageType": "Zip",
                    "architectures": ["x86_64"], "ephemeralStorage": {"size": 512},
                    "snapStart": {"applyOn": "None", "optimizationStatus": "Off"},
                    "runtimeVersionConfig": {"runtimeVersionArn": "arn:aws:lambda:us-east-1::runtime:" + hexid(rng, 64)},
                    "loggingConfig": {"logFormat": "Text", "logGroup": "/aws/lambda/" + fn}}
    elif src == "logs":
        lg = "/aws/lambda/" + pick(res["functions"]) if rng.random() < 0.7 else pick(
            ["/ecs/api", "/ecs/worker", "/aws/rds/cluster/aurora-prod/postgresql", "vpc-flow-logs"])
        if name == "CreateLogStream":
            req = {"logGroupName": lg, "logStreamName": "2026/%02d/%02d/[$LATEST]%s" % (
                rng.randint(1, 12), rng.randint(1, 28), hexid(rng, 32))}
        elif name == "DescribeLogGroups":
            req = pick([None, {"limit": 50}, {"logGroupNamePrefix": "/aws/lambda/"}])
        elif name == "DescribeLogStreams":
            req = {"logGroupName": lg, "orderBy": "LastEventTime", "descending": True, "limit": 50}
        elif name == "StartQuery":
            req = {"logGroupNames": [lg], "startTime": 1700000000, "endTime": 1700003600,
                   "queryString": "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 100"}
            resp = {"queryId": uuid4(rng)}
        elif name in ("GetQueryResults", "StopQuery"):
            req = {"queryId": uuid4(rng)}
        else:
            req = {"logGroupName": lg}
    elif src == "dynamodb":
        t = pick(res["tables"])
        if name in ("ListTables", "DescribeLimits", "ListGlobalTables", "ListBackups"):
            req = pick([None, {"limit": 100}]) if name == "ListTables" else None
        elif a["data"]:
            req = {"tableName": t, "key": {"pk": "HIDDEN_DUE_TO_SECURITY_REASONS"}}
            if name == "Query":
                req = {"tableName": t, "keyConditionExpression": "pk = :pk", "limit": 100,
                       "expressionAttributeValues": {":pk": "HIDDEN_DUE_TO_SECURITY_REASONS"}}
            extra = ',"resources":' + jdump([{"accountId": aid, "type": "AWS::DynamoDB::Table",
                                              "ARN": "arn:aws:dynamodb:us-east-1:%s:table/%s" % (aid, t)}])
        else:
            req = {"tableName": t}
            if name == "CreateBackup":
                req["backupName"] = "%s-%s" % (t, hexid(rng, 8))
                resp = {"backupDetails": {"backupArn": "arn:aws:dynamodb:us-east-1:%s:table/%s/backup/0%s" % (aid, t, rid(rng, "", 15, "0123456789")),
                                          "backupName": req["backupName"], "backupStatus": "CREATING",
                                          "backupType": "USER", "backupCreationDateTime": human_time(1700000000)}}
    elif src == "rds":
        db = pick(res["dbs"])
        dom = "c%s.us-east-1.rds.amazonaws.com" % hexid(rng, 10)
        if name in ("ModifyDBInstance", "RebootDBInstance"):
            req = {"dBInstanceIdentifier": db, "applyImmediately": True} if name == "ModifyDBInstance" \
                else {"dBInstanceIdentifier": db}
            # RDS logs the whole DBInstance; its endpoint is an object.
            resp = {"dBInstanceIdentifier": db, "dBInstanceClass": "db.r6g.large", "engine": "postgres",
                    "dBInstanceStatus": "modifying", "masterUsername": "postgres",
                    "endpoint": {"address": "%s.%s" % (db, dom), "port": 5432, "hostedZoneId": "Z2R2ITUGPM61AM"},
                    "allocatedStorage": 100, "preferredBackupWindow": "03:00-03:30",
                    "backupRetentionPeriod": 7, "multiAZ": True, "engineVersion": "15.5",
                    "autoMinorVersionUpgrade": True, "storageType": "gp3", "storageEncrypted": True,
                    "dbiResourceId": "db-" + rid(rng, "", 26), "dBInstanceArn": "arn:aws:rds:us-east-1:%s:db:%s" % (aid, db),
                    "deletionProtection": True}
        elif name in ("CreateDBCluster", "ModifyDBCluster", "StartDBCluster", "StopDBCluster"):
            c = pick(res["dbclusters"])
            req = {"dBClusterIdentifier": c}
            # ... while a DBCluster's endpoint is a string.
            resp = {"dBClusterIdentifier": c, "status": "available", "engine": "aurora-postgresql",
                    "engineVersion": "15.4", "endpoint": "%s.cluster-%s" % (c, dom),
                    "readerEndpoint": "%s.cluster-ro-%s" % (c, dom), "port": 5432, "multiAZ": True,
                    "dBClusterArn": "arn:aws:rds:us-east-1:%s:cluster:%s" % (aid, c),
                    "storageEncrypted": True, "deletionProtection": True}
        elif verb == "Describe" and rng.random() < 0.5:
            req = {"dBInstanceIdentifier": db} if "Instance" in name else None
        else:
            req = {"dBSnapshotIdentifier": "%s-%s" % (db, hexid(rng, 6)), "dBInstanceIdentifier": db} \
                if "Snapshot" in name else None
    elif src == "signin":
        req = None
        resp = {"ConsoleLogin": "Success"}
        extra = ',"additionalEventData":' + jdump({
            "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No", "MFAIdentifier": "arn:aws:iam::%s:mfa/device" % aid, "MFAUsed": "Yes"})
    else:
        key, value = generic_resources(acct).get(src, ("resourceArn", ["*"]))
        if verb in ("List", "Describe") and name.endswith("s") and rng.random() < 0.6:
            req = pick([None, {"maxResults": 100}, {}])
        else:
            req = {key: pick(value)}
            if src == "ecs" and "Task" in name:
                req["tasks"] = ["arn:aws:ecs:us-east-1:%s:task/%s/%s" % (aid, req["cluster"], hexid(rng, 32))]
            if src == "ssm" and name == "UpdateInstanceInformation":
                req = {"instanceId": pick(res["instances"]), "agentVersion": "3.3.40.0", "agentStatus": "Active",
                       "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
                       "iPAddress": "10.0.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
                       "computerName": "ip-10-0-1-2.ec2.internal", "agentName": "amazon-ssm-agent",
                       "availabilityZone": "us-east-1a", "availabilityZoneId": "use1-az2"}
            if src == "ssm" and name.startswith("GetParameter"):
                req["withDecryption"] = rng.random() < 0.5
            if src == "athena" and name in ("GetQueryExecution", "GetQueryResults", "StopQueryExecution"):
                req = {"queryExecutionId": uuid4(rng)}
            if src == "athena" and name == "StartQueryExecution":
                req = {"queryString": "SELECT * FROM curated.orders WHERE dt = '2026-01-%02d' LIMIT 100" % rng.randint(1, 28),
                       "clientRequestToken": uuid4(rng), "queryExecutionContext": {"database": "curated"},
                       "workGroup": pick(["primary", "analysts"])}
                resp = {"queryExecutionId": uuid4(rng)}
            if src == "secretsmanager" and name == "GetSecretValue":
                req["versionStage"] = "AWSCURRENT"
            if src == "cloudformation" and verb in ("Create", "Update"):
                resp = {"stackId": "arn:aws:cloudformation:us-east-1:%s:stack/%s/%s" % (aid, req["stackName"], uuid4(rng))}
            if src == "ecr" and name == "GetAuthorizationToken":
                req = {"registryIds": [aid]} if rng.random() < 0.3 else None
            if src == "sqs" and verb == "Create":
                resp = {"queueUrl": "https://sqs.us-east-1.amazonaws.com/%s/%s" % (aid, "q-" + hexid(rng, 6))}
            if src == "eks" and name == "DescribeCluster":
                pass  # no responseElements: reads are not logged with their answer
            if src == "acm" and name == "RequestCertificate":
                req = {"domainName": "*.example.com", "validationMethod": "DNS"}
                resp = {"certificateArn": "arn:aws:acm:us-east-1:%s:certificate/%s" % (aid, uuid4(rng))}
    return jdump(req), jdump(resp), extra


# ---------------------------------------------------------------------------------------------
# The plan: which files exist, which role sessions, and where each session's calls go.

class Session:
    __slots__ = ("sid", "role", "issuer", "name", "key", "ctime", "dur", "file", "mfa", "token_len",
                 "srcid", "person", "obo", "provider")

    def __init__(self):
        # srcid: the source identity; person: the index of the person (in the people list) whose
        # IP addresses and clients the calls use; obo: the person an identity-enhanced session
        # acts for; provider: "idc" or "okta" for AssumeRoleWithSAML sessions.
        self.srcid = self.person = self.obo = self.provider = None


def plan_account(acct, n_events, n_sessions, t_start, days, seed, people=None):
    rng = random.Random(seed * 104729 + acct["index"])
    users, roles = acct["users"], acct["roles"]
    # File sizes (~50-300 records) and delivery times, busier on weekdays and working hours.
    sizes, left = [], n_events
    while left > 0:
        c = int(rng.triangular(50, 300, 120))
        if left <= 300:
            c = left
        elif left - c < 50:  # no tiny last file
            c = left - 50
        sizes.append(c)
        left -= c
    day_w = [1.0 if time.gmtime(t_start + d * 86400).tm_wday < 5 else 0.3 for d in range(days)]
    hour_w = [0.25] * 6 + [0.6, 1, 1.5, 2, 2, 2, 1.6, 2, 2, 2, 1.8, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25]
    reg_names, reg_w = [r for r, _ in REGIONS], [w for _, w in REGIONS]
    ends = sorted(t_start + d * 86400 + h * 3600 + rng.randrange(12) * WINDOW + WINDOW
                  for d, h in zip(rng.choices(range(days), day_w, k=len(sizes)),
                                  rng.choices(range(24), hour_w, k=len(sizes))))
    files = [[ends[i], rng.choices(reg_names, reg_w)[0], sizes[i], []] for i in range(len(sizes))]
    cap = [int(c * 0.6) for c in sizes]
    cum, tot = [], 0
    for c in sizes:
        tot += c
        cum.append(tot)

    admins = [i for i, u in enumerate(users) if "admins" in u.groups]
    ops = [i for i, u in enumerate(users) if "ops" in u.groups and i != 0] or [0]
    work = [i for i, r in enumerate(roles) if r.kind2 == "work"]
    work = work[:max(1, len(work) - len(work) // 10)]  # a few roles are never used
    service = [i for i, r in enumerate(roles) if r.kind2 in ("lambda", "ec2")]
    work_w = [1.0 / (k + 1) ** 0.8 for k in range(len(work))]
    mean_calls = max(1.0, (0.35 * n_events - n_sessions) / max(1, n_sessions))

    def add_chained(s, parent):
        """The child's AssumeRole record is one of the parent's calls in that file."""
        for piece in files[s.file][3]:
            if piece[0] == parent.sid:
                if piece[1] > 0:
                    piece[1] -= 1
                    cap[s.file] += 1
                break

    def spread(s, f, want):
        """Spreads the session's calls over its file and the next ones until it expires (its
        piece in file f is the last one added)."""
        g = f
        while want > 0 and g < len(files) and files[g][0] - WINDOW < s.ctime + s.dur:
            take = min(want, cap[g])
            if take:
                if g == f:
                    files[f][3][-1][1] = take
                else:
                    files[g][3].append([s.sid, take, False])
                cap[g] -= take
                want -= take
            g += 1

    sessions = []
    for sid in range(n_sessions):
        s = Session()
        s.sid, s.mfa, s.token_len = sid, False, rng.randint(280, 420)
        x = rng.random()
        parent = None
        if x < 0.2 or not (work or service):
            s.role = 0  # admin; user000 opens about a quarter of these sessions
            s.issuer = ("user", 0 if (rng.random() < 0.25 or not admins) else rng.choice(admins))
            s.mfa = True
        elif x < 0.4 and service:
            s.role = rng.choice(service)
            s.issuer = ("service", roles[s.role].kind2 + ".amazonaws.com")
        else:
            s.role = rng.choices(work, work_w)[0] if work else rng.choice(service)
            cands = [p for p in sessions[-50:] if p.issuer[0] != "service" and p.role != s.role]
            if rng.random() < 0.12 and cands:
                parent = rng.choice(cands)
                s.issuer = ("session", parent.sid)
            else:
                s.issuer = ("user", 0 if rng.random() < 0.1 else rng.choice(ops))
        if parent is not None:
            f = parent.file
            s.ctime = min(parent.ctime + rng.randint(1, 20), files[f][0] - 2)
        else:
            for _ in range(6):
                f = bisect.bisect_right(cum, rng.randrange(tot))
                if cap[f] > 0:
                    break
            s.ctime = files[f][0] - WINDOW + rng.randint(0, WINDOW - 60)
        if cap[f] <= 0:
            continue
        cap[f] -= 1
        s.file = f
        s.dur = rng.choices([3600, 900, 7200, 43200], [70, 10, 10, 10])[0]
        role = roles[s.role]
        if s.issuer[0] == "service":
            s.name = rng.choice(acct["res"]["functions"]) if role.kind2 == "lambda" else \
                rng.choice(acct["res"]["instances"])
            s.dur = 43200 if role.kind2 == "lambda" else 21600
        elif s.issuer[0] == "session":
            s.name = rng.choice(["%s-%d" % (roles[parent.role].name, s.ctime), "terraform-" + hexid(rng, 8),
                                 "chained-%d" % s.ctime])
        else:
            un = users[s.issuer[1]].name
            s.name = rng.choices([un, "%s-%d" % (un, s.ctime), "botocore-session-%d" % s.ctime,
                                  "aws-go-sdk-%d%09d" % (s.ctime, rng.randrange(10 ** 9))],
                                 [40, 20, 25, 15])[0]
        s.key = rid(rng, "ASIA")
        sessions.append(s)
        files[f][3].append([s.sid, 0, True])
        if parent is not None:
            add_chained(s, parent)
        spread(s, f, int(rng.expovariate(1.0 / mean_calls)) + (0 if rng.random() < 0.05 else 1))
    if people is not None:
        plan_people(acct, people, sessions, files, cap, cum, tot, sizes, n_events, n_sessions, seed,
                    add_chained, spread)
    # Index sessions by sid (some planned sids were dropped for lack of room).
    by_sid = {s.sid: s for s in sessions}
    return {"files": files, "sessions": by_sid}


PEOPLE_SHARE = 0.2      # of the records: sessions of people behind roles (SAML, their chains)
PEOPLE_MEAN_CALLS = 11  # calls per such session, on average


def plan_people(acct, people, sessions, files, cap, cum, tot, sizes, n_events, next_sid, seed,
                add_chained, spread):
    """Adds the sessions of the people behind roles to the plan: source identities on some IAM
    users' sessions (carried down their chains), AssumeRoleWithSAML sessions into Identity Center
    permission sets and the other SAML provider's roles, role chains out of them, and
    identity-enhanced sessions of an application acting on behalf of Identity Center users.
    Uses its own random stream, so that the sessions planned before stay as they were."""
    rng = random.Random(seed * 104729 + acct["index"] + 15485863)
    users, roles, pr = acct["users"], acct["roles"], acct["people_roles"]
    by_sid = {s.sid: s for s in sessions}
    # Some people set a source identity when they assume a work role; role chains carry it.
    for s in sessions:
        if s.issuer[0] == "user" and s.issuer[1] != 0 and s.role != 0 and rng.random() < 0.3:
            s.srcid = users[s.issuer[1]].name
        elif s.issuer[0] == "session":
            s.srcid = by_sid[s.issuer[1]].srcid
    budget = int(n_events * PEOPLE_SHARE)
    for i, c in enumerate(sizes):
        cap[i] += int(c * PEOPLE_SHARE)
    work = [i for i, r in enumerate(roles) if r.kind2 == "work"]
    work = work[:max(1, len(work) - len(work) // 10)]
    work_w = [1.0 / (k + 1) ** 0.8 for k in range(len(work))]
    active = [i for i, p in enumerate(people) if not p.dormant]
    idc = [i for i in active if people[i].kind != "okta"]
    first = [i for i in active if people[i].home == acct["index"]]
    wcum, wt = [], 0.0
    for i in active:
        wt += people[i].weight
        wcum.append(wt)
    state = {"sid": next_sid}

    def new_session(role, issuer, ctime, f, dur, name):
        s = Session()
        s.sid, s.role, s.issuer, s.ctime, s.file, s.dur, s.name = state["sid"], role, issuer, ctime, f, dur, name
        s.mfa, s.token_len, s.key = False, rng.randint(280, 420), rid(rng, "ASIA")
        state["sid"] += 1
        cap[f] -= 1
        sessions.append(s)
        files[f][3].append([s.sid, 0, True])
        return s

    def pick_file():
        for _ in range(6):
            f = bisect.bisect_right(cum, rng.randrange(tot))
            if cap[f] > 0:
                return f
        return None

    def chain(parent, role, name_of, obo=None):
        f = parent.file
        ctime = min(parent.ctime + rng.randint(1, 20), files[f][0] - 2)
        if cap[f] <= 0:
            return None
        c = new_session(role, ("session", parent.sid), ctime, f, 3600, name_of(ctime))
        c.srcid, c.person, c.obo = parent.srcid, parent.person, obo
        add_chained(c, parent)
        spread(c, f, int(rng.expovariate(1.0 / PEOPLE_MEAN_CALLS)) + 1)
        return c

    used, k = 0, 0
    while used < budget and (first or active):
        if k < len(first):
            pi = first[k]
        else:
            pi = active[bisect.bisect_right(wcum, rng.random() * wt)]
        k += 1
        p = people[pi]
        if p.kind == "okta" or (p.kind == "both" and rng.random() < 0.3):
            role, provider = pr["okta"][rng.choice(p.okta)], "okta"
        else:
            role, provider = pr["sso"][rng.choice(p.sets)], "idc"
        f = pick_file()
        if f is None:
            used += 1
            continue
        r = roles[role]
        s = new_session(role, ("saml", pi), files[f][0] - WINDOW + rng.randint(0, WINDOW - 60), f,
                        rng.choices([3600, 28800, 43200], [70, 20, 10])[0], p.email)
        s.person, s.provider = pi, provider
        if r.set_source_identity:  # the IdP sends a SourceIdentity attribute for this role
            s.srcid = p.email
        n = int(rng.expovariate(1.0 / PEOPLE_MEAN_CALLS)) + 1
        spread(s, f, n)
        used += n + 1
        # From a permission set that may assume work roles: a role chain, usually in a CLI
        # profile (role_arn + source_profile), whose sessions botocore names.
        if r.chains and work and rng.random() < 0.15:
            c = chain(s, rng.choices(work, work_w)[0], lambda t: rng.choices(
                ["botocore-session-%d" % t, p.email.split("@")[0], "%s-%d" % (p.email.split("@")[0], t)],
                [70, 15, 15])[0])
            used += (PEOPLE_MEAN_CALLS + 1) if c else 0
    # An application that calls AWS on behalf of Identity Center users (identity-enhanced
    # sessions): its backend, a Lambda function, assumes the app role with the user's context.
    n_tip = len(idc) and max(1, budget // (PEOPLE_MEAN_CALLS + 1) // 150)
    for _ in range(n_tip):
        f = pick_file()
        if f is None:
            continue
        b = new_session(pr["tip_backend"], ("service", "lambda.amazonaws.com"),
                        files[f][0] - WINDOW + rng.randint(0, WINDOW - 120), f, 43200, "reports-api")
        spread(b, f, rng.randint(1, 6))
        for _ in range(rng.randint(1, 3)):
            chain(b, pr["tip_app"], lambda t: "reports-%s" % hexid(rng, 8), obo=rng.choice(idc))


# ---------------------------------------------------------------------------------------------
# Writing one file (runs in the worker processes; reads the module-level WORLD).

WORLD = {}


def user_ident(acct, u, key):
    return ('{"type":"IAMUser","principalId":"%s","arn":"%s","accountId":"%s","accessKeyId":"%s",'
            '"userName":"%s"}' % (u.pid, u.arn, acct["id"], key, u.name))


def console_ident(acct, u, key, created):
    return ('{"type":"IAMUser","principalId":"%s","arn":"%s","accountId":"%s","accessKeyId":"%s",'
            '"userName":"%s","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},'
            '"attributes":{"creationDate":"%s","mfaAuthenticated":"true"}}}'
            % (u.pid, u.arn, acct["id"], key, u.name, iso(created)))


def session_ident(acct, role, name, key, created, mfa, srcid=None, obo=None):
    """A role session's userIdentity; srcid: its source identity; obo: (Identity Center user
    id, identity store ARN) of an identity-enhanced session."""
    aid = acct["id"]
    return ('{"type":"AssumedRole","principalId":"%s:%s","arn":"arn:aws:sts::%s:assumed-role/%s/%s",'
            '"accountId":"%s","accessKeyId":"%s","sessionContext":{"sessionIssuer":{"type":"Role",'
            '"principalId":"%s","arn":"%s","accountId":"%s","userName":"%s"},"webIdFederationData":{},'
            '"attributes":{"creationDate":"%s","mfaAuthenticated":"%s"}%s}%s}'
            % (role.pid, name, aid, role.name, name, aid, key, role.pid, role.arn, aid, role.name,
               iso(created), "true" if mfa else "false",
               ',"sourceIdentity":"%s"' % srcid if srcid else "",
               ',"onBehalfOf":{"userId":"%s","identityStoreArn":"%s"}' % obo if obo else ""))


def gen_file(task):
    ai, fi = task
    W = WORLD
    acct, plan, catalog, pools = W["accounts"][ai], W["plans"][ai], W["catalog"], W["pools"][ai]
    users, roles, sessions, people = acct["users"], acct["roles"], plan["sessions"], W["people"]
    t_end, region, count, pieces = plan["files"][fi]
    aid = acct["id"]
    rng = random.Random((W["seed"] * 1000003 + ai) * 10000019 + fi)
    ws = t_end - WINDOW
    g = time.gmtime(ws)
    hour_prefix = time.strftime("%Y-%m-%dT%H:", g)
    base = g.tm_min * 60
    tstr = [hour_prefix + "%02d:%02dZ" % divmod(base + k, 60) for k in range(WINDOW)]
    regional = 0 if region == "us-east-1" else 1
    rnd, rrange, choices = rng.random, rng.randrange, rng.choices
    mids, tails = {}, {}
    recs = []
    stats = {"records": 0, "user000_direct_ok": 0, "user000_admin_ok": 0, "user000_admin_sessions": 0,
             "denied": 0, "assume_role": 0, "assume_role_saml": 0, "endpoint_str": 0, "endpoint_obj": 0,
             "orphan_sessions": 0}
    global_idx, global_cum = W["global_profile"][regional]

    def mid(a_i):
        m = mids.get(a_i)
        if m is None:
            a = catalog[a_i]
            m = mids[a_i] = '","eventSource":"%s.amazonaws.com","eventName":"%s","awsRegion":"%s","sourceIPAddress":"' % (
                a["src"], a["name"], region)
            host = "%s.%s.amazonaws.com" % (a["src"], region) if not a["global"] else "%s.amazonaws.com" % a["src"]
            if a["src"] == "s3":
                host = "s3.amazonaws.com"
            tails[a_i] = ('"readOnly":%s%%s,"eventType":"%s","managementEvent":%s,"recipientAccountId":"%s",'
                          '"eventCategory":"%s","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":'
                          '"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s"}' % (
                              "true" if a["ro"] else "false",
                              "AwsConsoleSignIn" if a["src"] == "signin" else "AwsApiCall",
                              "false" if a["data"] else "true", aid, "Data" if a["data"] else "Management",
                              host))
        return m

    def emit(t, ident, a_i, ip, agent, denied_arn=None, console=False):
        a = catalog[a_i]
        req, resp, extra = pools[a_i][int(rnd() * POOL_SIZE)]
        if denied_arn:
            act = a["iam"][0] if a["iam"] else "%s:%s" % (a["src"], a["name"])
            code = "Client.UnauthorizedOperation" if a["src"] == "ec2" else "AccessDenied"
            msg = ("User: %s is not authorized to perform: %s on resource: arn:aws:%s:%s:%s:* because no "
                   "identity-based policy allows the %s action" % (denied_arn, act, act.split(":")[0], region, aid, act))
            if code != "AccessDenied":
                msg = "You are not authorized to perform this operation. " + msg
            err = '"errorCode":"%s","errorMessage":"%s",' % (code, msg)
            resp, extra = "null", ""
            stats["denied"] += 1
        else:
            err = ""
            if '"endpoint":{' in resp:
                stats["endpoint_obj"] += 1
            elif '"endpoint":"' in resp:
                stats["endpoint_str"] += 1
        h = "%032x" % rng.getrandbits(128)
        h2 = "%032x" % rng.getrandbits(128)
        recs.append((t, "".join((
            '{"eventVersion":"1.09","userIdentity":', ident, ',"eventTime":"', tstr[t - ws],
            mids.get(a_i) or mid(a_i), ip, '","userAgent":"', agent, '",', err,
            '"requestParameters":', req, ',"responseElements":', resp, ',"requestID":"',
            h[:8], "-", h[8:12], "-4", h[13:16], "-", VARIANT[h[16]], h[17:20], "-", h[20:], '","eventID":"',
            h2[:8], "-", h2[8:12], "-4", h2[13:16], "-", VARIANT[h2[16]], h2[17:20], "-", h2[20:], '",',
            tails[a_i] % extra, ',"sessionCredentialFromConsole":"true"}' if console else "}"))))

    def calls(n, profile, ident, arn, ips, agents, lo):
        """n calls by one principal at times in [lo, t_end); returns how many succeeded."""
        idx, cw = profile[regional]
        ok = 0
        for a_i in choices(idx, cum_weights=cw, k=n):
            t = lo + int(rnd() * (t_end - lo))
            if rnd() < 0.03:
                emit(t, ident, choices(global_idx, cum_weights=global_cum)[0], ips[0], agents[0], arn)
            else:
                emit(t, ident, a_i, ips[int(rnd() * len(ips))], agents[int(rnd() * len(agents))])
                ok += 1
        return ok

    def sts_record(s, name, ident, ip, agent, req, resp, extra):
        host = "sts.%s.amazonaws.com" % region if region != "us-east-1" else "sts.amazonaws.com"
        recs.append((s.ctime, "".join((
            '{"eventVersion":"1.08","userIdentity":', ident, ',"eventTime":"', iso(s.ctime),
            '","eventSource":"sts.amazonaws.com","eventName":"', name, '","awsRegion":"', region,
            '","sourceIPAddress":"', ip, '","userAgent":"', agent, '","requestParameters":', req,
            ',"responseElements":', resp, ',"requestID":"', uuid4(rng), '","eventID":"', uuid4(rng),
            '","readOnly":true', extra, ',"eventType":"AwsApiCall","managementEvent":true,'
            '"recipientAccountId":"', aid, '","eventCategory":"Management","tlsDetails":{"tlsVersion":'
            '"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"', host, '"}}'))))

    def credentials(s, role):
        token = base64.b64encode(rng.randbytes(s.token_len)).decode()
        return ('"credentials":{"accessKeyId":"%s","sessionToken":"%s","expiration":"%s"},'
                '"assumedRoleUser":{"assumedRoleId":"%s:%s","arn":"arn:aws:sts::%s:assumed-role/%s/%s"}'
                % (s.key, token, human_time(s.ctime + s.dur), role.pid, s.name, aid, role.name, s.name))

    def assume_record(s, ident, ip, agent):
        role = roles[s.role]
        rarn = role.arn
        cred = credentials(s, role)
        if s.issuer[0] == "service":
            req = '{"roleArn":"%s","roleSessionName":"%s"' % (rarn, s.name)
        else:
            req = '{"roleArn":"%s","roleSessionName":"%s","durationSeconds":%d' % (rarn, s.name, s.dur)
        if s.srcid and s.issuer[0] == "user":  # set here; a chained session inherits it
            req += ',"sourceIdentity":"%s"' % s.srcid
        if s.obo is not None:  # the application passes the Identity Center user's context
            req += ',"providedContexts":[{"providerArn":"arn:aws:iam::aws:contextProvider/IdentityCenter"}]'
        resp = "{" + cred + (',"sourceIdentity":"%s"}' % s.srcid if s.srcid else "}")
        extra = ',"resources":[{"accountId":"%s","type":"AWS::IAM::Role","ARN":"%s"}]' % (aid, rarn)
        sts_record(s, "AssumeRole", ident, ip, agent, req + "}", resp, extra)
        stats["assume_role"] += 1

    def saml_record(s):
        """AssumeRoleWithSAML: Identity Center (its portal is the IdP) or the Okta provider."""
        role, p, prov = roles[s.role], people[s.person], acct["saml"][s.provider]
        issuer = W["store"]["issuer"] if s.provider == "idc" else prov["issuer"]
        ident = ('{"type":"SAMLUser","principalId":"%s:%s","userName":"%s","identityProvider":"%s"}'
                 % (prov["qualifier"], p.email, p.email, prov["qualifier"]))
        src = ',"sourceIdentity":"%s"' % s.srcid if s.srcid else ""
        req = ('{"sAMLAssertionID":"_%s","roleSessionName":"%s","principalArn":"%s","roleArn":"%s",'
               '"durationSeconds":%d%s}' % (uuid4(rng), s.name, prov["arn"], role.arn, s.dur, src))
        resp = ('{%s,"packedPolicySize":%d,"subject":"%s","subjectType":"persistent","issuer":"%s",'
                '"audience":"%s","nameQualifier":"%s"%s}' % (credentials(s, role), rng.randint(1, 9), p.email,
                                                             issuer, SAML_AUD, prov["qualifier"], src))
        extra = (',"resources":[{"accountId":"%s","type":"AWS::IAM::Role","ARN":"%s"},{"accountId":"%s",'
                 '"type":"AWS::IAM::SAMLProvider","ARN":"%s"}]' % (aid, role.arn, aid, prov["arn"]))
        sts_record(s, "AssumeRoleWithSAML", ident, p.ips[0], p.agents[0], req, resp, extra)
        stats["assume_role_saml"] += 1

    ident_cache = {}

    def ident_of(s):
        v = ident_cache.get(s.sid)
        if v is None:
            obo = (people[s.obo].uid, W["store_arn"]) if s.obo is not None else None
            v = ident_cache[s.sid] = session_ident(acct, roles[s.role], s.name, s.key, s.ctime, s.mfa,
                                                   s.srcid, obo)
        return v

    def origin(s):
        """(IP addresses, user agents) of a session's calls: its person's, else its role's."""
        if s.person is not None:
            return people[s.person].ips, people[s.person].agents
        return roles[s.role].ips, roles[s.role].agents

    used = 0
    for sid, n, created_here in pieces:
        s = sessions.get(sid)
        if s is None:
            continue
        role = roles[s.role]
        if created_here:
            kind = s.issuer[0]
            if kind == "user":
                u = users[s.issuer[1]]
                assume_record(s, user_ident(acct, u, u.keys[0]), u.ips[0], u.agents[0])
            elif kind == "session":
                p = sessions[s.issuer[1]]
                ips, agents = origin(p)
                assume_record(s, ident_of(p), ips[0], agents[0])
            elif kind == "saml":
                saml_record(s)
            else:
                svc = s.issuer[1]
                assume_record(s, '{"type":"AWSService","invokedBy":"%s"}' % svc, svc, svc)
            used += 1
        if n:
            lo = max(ws, s.ctime + 1)
            ips, agents = origin(s)
            ok = calls(n, role.profile, ident_of(s), "arn:aws:sts::%s:assumed-role/%s/%s" % (aid, role.name, s.name),
                       ips, agents, lo)
            used += n
            if s.role == 0 and s.issuer == ("user", 0):
                stats["user000_admin_ok"] += ok
        if created_here and s.role == 0 and s.issuer == ("user", 0):
            stats["user000_admin_sessions"] += 1

    direct = count - used
    # Now and then a role session whose AssumeRole predates the logs (no record to join).
    if direct > 4 and rnd() < 0.08:
        role = roles[rrange(acct["base_roles"])]
        n = min(direct // 4, rng.randint(1, 15))
        name = "botocore-session-%d" % (ws - rng.randint(100, 3000))
        calls(n, role.profile, session_ident(acct, role, name, rid(rng, "ASIA"), ws - 3000, False),
              role.arn, role.ips, role.agents, ws)
        direct -= n
        stats["orphan_sessions"] += 1
    per_user = {}
    for ui in choices(W["user_idx"], cum_weights=W["user_cum"][ai], k=direct):
        per_user[ui] = per_user.get(ui, 0) + 1
    signin_i = W["signin_idx"]
    for ui, n in per_user.items():
        u = users[ui]
        keyed = user_ident(acct, u, u.keys[rrange(len(u.keys))])
        cons = u.console and rnd() < u.console * 4
        cident = console_ident(acct, u, rid(rng, "ASIA"), ws - rng.randint(60, 20000)) if cons else None
        idx, cw = u.profile[regional]
        ok = 0
        for a_i in choices(idx, cum_weights=cw, k=n):
            t = ws + int(rnd() * WINDOW)
            ip = u.ips[int(rnd() * len(u.ips))]
            x = rnd()
            if x < 0.03:
                emit(t, keyed, choices(global_idx, cum_weights=global_cum)[0], ip, u.agents[0], u.arn)
            elif x < 0.032 and "admins" not in u.groups:
                # A refused attempt to become admin.
                h = '"errorCode":"AccessDenied","errorMessage":"User: %s is not authorized to perform: sts:AssumeRole on resource: %s",' % (
                    u.arn, roles[0].arn)
                recs.append((t, "".join((
                    '{"eventVersion":"1.08","userIdentity":', keyed, ',"eventTime":"', tstr[t - ws],
                    '","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"', region,
                    '","sourceIPAddress":"', ip, '","userAgent":"', u.agents[0], '",', h,
                    '"requestParameters":{"roleArn":"', roles[0].arn, '","roleSessionName":"', u.name,
                    '"},"responseElements":null,"requestID":"', uuid4(rng), '","eventID":"', uuid4(rng),
                    '","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"',
                    aid, '","eventCategory":"Management"}'))))
                stats["denied"] += 1
            elif a_i == signin_i:
                emit(t, '{"type":"IAMUser","principalId":"%s","arn":"%s","accountId":"%s","userName":"%s"}' % (
                    u.pid, u.arn, aid, u.name), a_i, ip, CONSOLE_AGENTS[1])
                ok += 1
            elif cons and rnd() < 0.7:
                emit(t, cident, a_i, ip, CONSOLE_AGENTS[int(rnd() * len(CONSOLE_AGENTS))], console=True)
                ok += 1
            else:
                emit(t, keyed, a_i, ip, u.agents[int(rnd() * len(u.agents))])
                ok += 1
        if ui == 0:
            stats["user000_direct_ok"] += ok

    recs.sort(key=lambda r: r[0])
    stats["records"] = len(recs)
    body = ('{"Records":[' + ",".join(r for _, r in recs) + "]}").encode()
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    gz = z.compress(body) + z.flush()
    tm = time.gmtime(t_end)
    folder = os.path.join(W["out"], "AWSLogs", aid, "CloudTrail", region, time.strftime("%Y/%m/%d", tm))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "%s_CloudTrail_%s_%s_%s.json.gz" % (
        aid, region, time.strftime("%Y%m%dT%H%MZ", tm), rid(rng, "", 16, ALNUM)))
    with open(path, "wb") as f:
        f.write(gz)
    os.utime(path, (t_end + 120, t_end + 120))
    stats["json_bytes"], stats["gz_bytes"] = len(body), len(gz)
    return stats


# ---------------------------------------------------------------------------------------------

def people_summary(accounts, plans, people, totals):
    """What the people-behind-roles questions should answer, by the rules of docs/people.md:
    per account, each person with the roles whose sessions they opened (onBehalfOf, then the
    source identity, then the opening event, following role chains), and the Identity Center
    users without a session; plus the role sessions by kind."""
    kinds, names = collections.Counter(), collections.Counter()
    expected, example = {}, None
    for acct, plan in zip(accounts, plans):
        users, roles, ses = acct["users"], acct["roles"], plan["sessions"]

        def root(s):
            while s.issuer[0] == "session":
                s = ses[s.issuer[1]]
            return s

        def person_of(s):
            if s.obo is not None:
                return people[s.obo].email
            if s.srcid:
                return s.srcid
            r = root(s)
            if r.issuer[0] == "user":
                return users[r.issuer[1]].name
            if r.issuer[0] == "saml":
                return people[r.person].email
            return None  # a service's own session

        def origin(r):
            return {"user": "IAM user", "service": "AWS service"}.get(
                r.issuer[0], "SAML (Identity Center)" if r.provider == "idc" else "SAML (Okta)")

        active, idc_sessions = {}, collections.Counter()
        for s in ses.values():
            if s.obo is not None:
                kind = "identity-enhanced (onBehalfOf)"
            elif s.issuer[0] == "session":
                kind = "role chain from " + origin(root(s))
            else:
                kind = {"user": "AssumeRole by an IAM user", "service": "AssumeRole by an AWS service"}.get(
                    s.issuer[0], "AssumeRoleWithSAML, " + origin(s)[6:-1])
            kinds[kind + (", with sourceIdentity" if s.srcid else "")] += 1
            if s.name.startswith("botocore-session-"):
                names["botocore-session-*"] += 1
            who = person_of(s)
            if who:
                active.setdefault(who, set()).add(roles[s.role].name)
            if s.provider == "idc":
                idc_sessions[people[s.person].email] += 1
        dormant = sorted(p.email for p in people if p.kind != "okta" and p.email not in active)
        expected[acct["name"]] = {"active": {k: sorted(v) for k, v in sorted(active.items())},
                                  "dormant": dormant}
        if example is None and idc_sessions:
            example = min(idc_sessions.items(), key=lambda kv: (-kv[1], kv[0]))
    kinds["no AssumeRole in the logs (botocore-session-* names)"] = totals.get("orphan_sessions", 0)
    acting = {n for e in expected.values() for n in e["active"]}
    return {
        "people": len(acting),
        "saml_people": len({p.email for p in people if not p.dormant}),
        "identity_store_users": sum(1 for p in people if p.kind != "okta"),
        "dormant": len(expected[accounts[0]["name"]]["dormant"]) if accounts else 0,
        "sessions": dict(kinds), "session_names": dict(names),
        "person_example": example[0] if example else None,
        "person_example_sessions": example[1] if example else 0,
        "expected": expected,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--events", type=int, required=True, help="number of CloudTrail records")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accounts", type=int, default=1)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--roles", type=int, default=40, help="roles per account, admin included")
    ap.add_argument("--sessions", type=int, default=10000,
                    help="role sessions per account (capped at events/25)")
    ap.add_argument("--anchor", default="2026-06-30", help="events fall in the days before this date")
    ap.add_argument("--days", type=int, default=300)
    ap.add_argument("--people", type=int, default=None,
                    help="people behind roles: Identity Center and SAML users (default events/300; 0: none)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes")
    ap.add_argument("--force", action="store_true", help="replace an existing archive in --out")
    args = ap.parse_args()
    if args.events < 1 or args.users < 1 or args.roles < 1 or args.accounts < 1 or args.days < 1:
        ap.error("--events, --users, --roles, --accounts and --days must be positive")
    n_people = args.events // 300 if args.people is None else args.people
    if n_people < 0:
        ap.error("--people must not be negative")

    t0 = time.perf_counter()
    anchor = calendar.timegm(time.strptime(args.anchor, "%Y-%m-%d"))
    t_start = anchor - args.days * 86400
    logs = os.path.join(args.out, "AWSLogs")
    if os.path.exists(logs):
        if not args.force:
            sys.exit("gen_archive: %s exists (use --force to replace it)" % logs)
        shutil.rmtree(logs)
    os.makedirs(args.out, exist_ok=True)
    for stale in ("manifest.json", "identity-store.json"):
        if os.path.exists(os.path.join(args.out, stale)):
            os.remove(os.path.join(args.out, stale))

    catalog = parse_catalog()
    people, store = make_people(n_people, args.accounts, args.seed) if n_people else ([], None)
    accounts, plans, pools, user_cum = [], [], [], []
    per_acct = [args.events // args.accounts + (1 if i < args.events % args.accounts else 0)
                for i in range(args.accounts)]
    for i in range(args.accounts):
        acct = build_account(i, args, catalog, args.seed, people_on=bool(people))
        n_sess = min(args.sessions, per_acct[i] // 25)
        plans.append(plan_account(acct, per_acct[i], n_sess, t_start, args.days, args.seed,
                                  people if people else None))
        prng = random.Random(args.seed * 31337 + i)
        pools.append([[params_for(prng, a, acct) for _ in range(POOL_SIZE)] for a in catalog])
        accounts.append(acct)
        # Direct calls: user000 makes ~10%, the others follow a Zipf law in a shuffled order.
        ranks = list(range(1, args.users))
        random.Random(args.seed + i).shuffle(ranks)
        w = [0.0] + [1.0 / r ** 1.1 for r in ranks]
        w[0] = sum(w) / 9 if args.users > 1 else 1.0
        c, tot = [], 0.0
        for x in w:
            tot += x
            c.append(tot)
        user_cum.append(c)
    gw = [(i, a["weight"]) for i, a in enumerate(catalog) if a["src"] != "signin"]
    WORLD.update({
        "accounts": accounts, "plans": plans, "pools": pools, "catalog": catalog, "seed": args.seed,
        "out": args.out, "user_idx": list(range(args.users)), "user_cum": user_cum,
        "global_profile": make_profile([i for i, _ in gw], [x for _, x in gw], catalog),
        "signin_idx": next(i for i, a in enumerate(catalog) if a["src"] == "signin"),
        "people": people, "store": store,
        "store_arn": "arn:aws:identitystore::%s:identitystore/%s" % (accounts[0]["id"], store["id"]) if store else None,
    })
    t_plan = time.perf_counter() - t0

    tasks = [(ai, fi) for ai in range(len(plans)) for fi in range(len(plans[ai]["files"]))]
    totals = {}
    done = 0
    step = max(1, len(tasks) // 10)
    if args.jobs > 1 and len(tasks) > 1:
        ctx = multiprocessing.get_context("fork")
        pool = ctx.Pool(args.jobs)
        results = pool.imap_unordered(gen_file, tasks, chunksize=4)
    else:
        pool, results = None, map(gen_file, tasks)
    for st in results:
        for k, v in st.items():
            totals[k] = totals.get(k, 0) + v
        done += 1
        if done % step == 0 and sys.stderr.isatty():
            print("gen_archive: %d/%d files" % (done, len(tasks)), file=sys.stderr)
    if pool:
        pool.close()
        pool.join()
    assert totals["records"] == args.events, (totals["records"], args.events)

    # IAM documents and the config.
    cfg = ["accounts:"]
    for acct in accounts:
        fname = "iam.json" if acct["index"] == 0 else "iam-%s.json" % acct["name"]
        with open(os.path.join(args.out, fname), "w") as f:
            json.dump(auth_details(acct), f, indent=4)
            f.write("\n")
        cfg += ["  - name: %s" % acct["name"], '    id: "%s"' % acct["id"], "    iam: %s" % fname]
        if store:  # one Identity Center instance for the organization: every account names it
            cfg.append("    identity_store: identity-store.json")
    if store:
        with open(os.path.join(args.out, "identity-store.json"), "w") as f:
            json.dump(identity_store_doc(people, store), f, indent=2)
            f.write("\n")
    cfg += ["files:", "  paths: [AWSLogs]", "  store: store.db", ""]
    with open(os.path.join(args.out, "config.yaml"), "w") as f:
        f.write("\n".join(cfg))

    elapsed = time.perf_counter() - t0
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "params": dict({k: getattr(args, k) for k in ("events", "seed", "accounts", "users", "roles",
                                                      "sessions", "anchor", "days")}, people=n_people),
        "window": {"start": iso(t_start)[:10], "end": args.anchor},
        "accounts": [{"name": a["name"], "id": a["id"]} for a in accounts],
        "files": len(tasks), "sessions": sum(len(p["sessions"]) for p in plans),
        "catalog_entries": len(catalog),
        "totals": totals, "seconds": round(elapsed, 2), "plan_seconds": round(t_plan, 2),
        "people": people_summary(accounts, plans, people, totals),
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    mb = totals["json_bytes"] / 1e6
    print("gen_archive: %d events in %d files (%d sessions), %.1f MB JSON -> %.1f MB gzip, %.1f s "
          "(%.0f events/s, %.1f MB/s JSON, %d jobs)" % (
              args.events, len(tasks), manifest["sessions"], mb, totals["gz_bytes"] / 1e6, elapsed,
              args.events / elapsed, mb / elapsed, args.jobs))
    print("gen_archive: user000: %d direct calls, %d calls in %d admin sessions; %d denied, %d AssumeRole" % (
        totals["user000_direct_ok"], totals["user000_admin_ok"], totals["user000_admin_sessions"],
        totals["denied"], totals["assume_role"]))
    pm = manifest["people"]
    if n_people:
        print("gen_archive: people behind roles: %d acting (%d Identity Center users in the identity store, %d "
              "without activity); role sessions: %s" % (
                  pm["people"], pm["identity_store_users"], pm["dormant"],
                  ", ".join("%s %d" % kv for kv in sorted(pm["sessions"].items()))))


if __name__ == "__main__":
    main()
