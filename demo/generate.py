#!/usr/bin/env python3
"""Writes the demo: IAM authorization details for the accounts `demo`
(111111111111) and `backup` (222222222222) and their CloudTrail files in the
real S3 layout, reproducing the scenario of the original CloudTracker
announcement. The output is committed; re-run this after changing it:

    python3 demo/generate.py

Output is deterministic (fixed ids, gzip mtime 0)."""
import gzip
import io
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO, BACKUP = "111111111111", "222222222222"


def policy_doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resource="*"):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


ADMIN_ACCESS = {
    "PolicyName": "AdministratorAccess",
    "PolicyId": "ANPAIWMBCKSKIEE64ZLYK",
    "Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
    "Path": "/",
    "DefaultVersionId": "v1",
    "AttachmentCount": 1,
    "IsAttachable": True,
    "CreateDate": "2015-02-06T18:39:46Z",
    "UpdateDate": "2015-02-06T18:39:46Z",
    "PolicyVersionList": [
        {"Document": policy_doc(allow("*")), "VersionId": "v1", "IsDefaultVersion": True,
         "CreateDate": "2015-02-06T18:39:46Z"}
    ],
}

# Read access in the style of AWS's SecurityAudit policy, kept short.
AUDIT_V2 = policy_doc(
    allow([
        "cloudwatch:DescribeAlarm*",
        "cloudwatch:GetDashboard",
        "cloudwatch:GetMetricData",
        "cloudwatch:ListDashboards",
        "ec2:DescribeInstances",
        "ec2:DescribeRegions",
        "ec2:DescribeSecurityGroups",
        "iam:GetAccountSummary",
        "iam:ListRoles",
        "iam:ListUsers",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicy",
        "s3:ListAllMyBuckets",
    ]))
# An older version that granted more: only the default version counts.
AUDIT_V1 = policy_doc(allow(["cloudwatch:*", "ec2:*"]))


def user(name, uid, created, groups, inline=()):
    return {
        "Path": "/",
        "UserName": name,
        "UserId": uid,
        "Arn": f"arn:aws:iam::{DEMO}:user/{name}",
        "CreateDate": created,
        "UserPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
        "GroupList": list(groups),
        "AttachedManagedPolicies": [],
        "Tags": [],
    }


def assume(role_arn):
    return policy_doc(allow("sts:AssumeRole", role_arn))


def trust(account):
    return policy_doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                       "Action": "sts:AssumeRole"})


def role(account, name, rid, created, managed=(), inline=(), trusted=None):
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": rid,
        "Arn": f"arn:aws:iam::{account}:role/{name}",
        "CreateDate": created,
        "AssumeRolePolicyDocument": trust(trusted or account),
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
        "AttachedManagedPolicies": [{"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]}
                                    for p in managed],
        "Tags": [],
        "RoleLastUsed": {},
    }


def ci_deploy(boundary):
    """A role whose permissions boundary removes part of what its policy
    grants, and whose policy denies plain-HTTP uploads (a limited Deny)."""
    r = role(DEMO, "ci-deploy", "AROADEMOCIDEPLOY0001", "2017-08-01T00:00:00Z", inline=[(
        "deploy", policy_doc(
            allow(["s3:PutObject", "s3:ListBucket", "lambda:UpdateFunctionCode"]),
            {"Sid": "TlsOnly", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))])
    r["PermissionsBoundary"] = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                "PermissionsBoundaryArn": boundary["Arn"]}
    return r


# IAM Identity Center: each permission set is a role under this path in
# every account it is assigned to, trusted through a SAML provider named
# AWSSSO_<id>_DO_NOT_DELETE with sts:AssumeRoleWithSAML (shared reference
# "people-and-access-reviews.md" 3.3, sources S63-S65).
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SSO_READONLY = "AWSReservedSSO_ReadOnly_0a1b2c3d4e5f6a7b"
SSO_POWER = "AWSReservedSSO_PowerUser_7b6a5f4e3d2c1b0a"
SSO_PROVIDER = f"arn:aws:iam::{DEMO}:saml-provider/AWSSSO_5f6a7b8c9d0e1f2a_DO_NOT_DELETE"
OKTA_PROVIDER = f"arn:aws:iam::{DEMO}:saml-provider/Okta"
IDC_STORE = "d-9067a1b2c3"


def saml_trust(provider):
    return policy_doc({"Effect": "Allow", "Principal": {"Federated": provider},
                       "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                       "Condition": {"StringEquals": {
                           "SAML:aud": "https://signin.aws.amazon.com/saml"}}})


def people_roles():
    """Roles people reach without IAM users: two Identity Center permission
    sets, a role federated from another SAML provider, an application role
    acting on behalf of Identity Center users, and a chain ops -> deploy."""
    def saml_role(name, rid, path, provider, statements):
        r = role(DEMO, name, rid, "2018-01-10T00:00:00Z",
                 inline=[("permissions", policy_doc(*statements))])
        r["Path"] = path
        r["Arn"] = f"arn:aws:iam::{DEMO}:role{path}{name}"
        r["AssumeRolePolicyDocument"] = saml_trust(provider)
        return r

    app = role(DEMO, "reports-app", "AROADEMOREPORTSAPP01", "2018-01-10T00:00:00Z",
               inline=[("reports", policy_doc(allow(["s3:GetObject", "s3:ListBucket",
                                                      "athena:StartQueryExecution"])))])
    return [
        saml_role(SSO_READONLY, "AROADEMOSSOREADONLY1", SSO_PATH, SSO_PROVIDER,
                  [allow(["ec2:Describe*", "s3:ListAllMyBuckets", "s3:GetBucketAcl",
                          "cloudwatch:GetDashboard"])]),
        saml_role(SSO_POWER, "AROADEMOSSOPOWERUSR1", SSO_PATH, SSO_PROVIDER,
                  [allow(["ec2:*", "lambda:*", "s3:*"])]),
        saml_role("okta-engineers", "AROADEMOOKTAENGINEER", "/", OKTA_PROVIDER,
                  [allow(["cloudwatch:GetDashboard", "cloudwatch:ListDashboards",
                          "logs:FilterLogEvents"])]),
        app,
        role(DEMO, "ops", "AROADEMOOPS000000001", "2018-01-10T00:00:00Z",
             inline=[("ops", policy_doc(allow(["sts:AssumeRole", "sts:SetSourceIdentity"],
                                              f"arn:aws:iam::{DEMO}:role/deploy"),
                                        allow(["ec2:DescribeInstances"])))]),
        role(DEMO, "deploy", "AROADEMODEPLOY000001", "2018-01-10T00:00:00Z",
             inline=[("deploy", policy_doc(allow(["lambda:UpdateFunctionCode",
                                                  "lambda:GetFunction", "lambda:DeleteFunction"])))]),
    ]


def identity_store():
    """The Identity Center users, as `aws identitystore list-users` prints
    them: ivy has an account but used nothing."""
    def u(name, uid, display):
        return {"UserName": name, "UserId": uid, "DisplayName": display,
                "Name": {"GivenName": display.split()[0], "FamilyName": display.split()[1]},
                "Emails": [{"Value": name, "Type": "work", "Primary": True}],
                "IdentityStoreId": IDC_STORE}
    return {"Users": [
        u("erin@example.com", "9067a1b2c3-erin-0001", "Erin Example"),
        u("frank@example.com", "9067a1b2c3-frank-002", "Frank Example"),
        u("ivy@example.com", "9067a1b2c3-ivy-00003", "Ivy Example"),
    ]}


def demo_iam():
    audit = {
        "PolicyName": "DemoSecurityAudit",
        "PolicyId": "ANPADEMOAUDIT00000001",
        "Arn": f"arn:aws:iam::{DEMO}:policy/DemoSecurityAudit",
        "Path": "/",
        "DefaultVersionId": "v2",
        "AttachmentCount": 1,
        "IsAttachable": True,
        "CreateDate": "2017-08-01T00:00:00Z",
        "UpdateDate": "2017-08-15T00:00:00Z",
        "PolicyVersionList": [
            {"Document": AUDIT_V2, "VersionId": "v2", "IsDefaultVersion": True,
             "CreateDate": "2017-08-15T00:00:00Z"},
            {"Document": AUDIT_V1, "VersionId": "v1", "IsDefaultVersion": False,
             "CreateDate": "2017-08-01T00:00:00Z"},
        ],
    }
    boundary = {
        "PolicyName": "DeployBoundary",
        "PolicyId": "ANPADEMOBOUNDARY0001",
        "Arn": f"arn:aws:iam::{DEMO}:policy/DeployBoundary",
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 0,
        "PermissionsBoundaryUsageCount": 1,
        "IsAttachable": True,
        "CreateDate": "2017-08-01T00:00:00Z",
        "UpdateDate": "2017-08-01T00:00:00Z",
        "PolicyVersionList": [
            {"Document": policy_doc(allow("s3:*")), "VersionId": "v1", "IsDefaultVersion": True,
             "CreateDate": "2017-08-01T00:00:00Z"}
        ],
    }
    admin_arn = f"arn:aws:iam::{DEMO}:role/admin"
    return {
        "UserDetailList": [
            user("alice", "AIDADEMOALICE0000001", "2017-09-01T01:01:01Z", ["auditors"],
                 [("assume-admin", assume(admin_arn))]),
            user("bob", "AIDADEMOBOB000000001", "2017-10-01T01:01:01Z", ["auditors"],
                 [("assume-admin", assume(admin_arn))]),
            user("charlie", "AIDADEMOCHARLIE00001", "2017-11-01T01:01:01Z", ["auditors"],
                 [("assume-backup-admin", assume(f"arn:aws:iam::{BACKUP}:role/admin"))]),
            user("dave", "AIDADEMODAVE00000001", "2017-12-01T01:01:01Z", ["auditors"]),
            # People behind roles (README: People behind roles).
            user("henry", "AIDADEMOHENRY0000001", "2018-01-15T01:01:01Z", [],
                 [("assume-ops", assume(f"arn:aws:iam::{DEMO}:role/ops"))]),
            user("ci-runner", "AIDADEMOCIRUNNER0001", "2018-01-15T01:01:01Z", [],
                 [("assume-ci-deploy", assume(f"arn:aws:iam::{DEMO}:role/ci-deploy"))]),
        ],
        "GroupDetailList": [{
            "Path": "/",
            "GroupName": "auditors",
            "GroupId": "AGPADEMOAUDITORS0001",
            "Arn": f"arn:aws:iam::{DEMO}:group/auditors",
            "CreateDate": "2017-08-01T00:00:00Z",
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [{"PolicyName": audit["PolicyName"],
                                         "PolicyArn": audit["Arn"]}],
        }],
        "RoleDetailList": [
            role(DEMO, "admin", "AROADEMOADMIN0000001", "2017-08-01T00:00:00Z",
                 managed=[ADMIN_ACCESS]),
            ci_deploy(boundary),
            *people_roles(),
        ],
        "Policies": [audit, ADMIN_ACCESS, boundary],
    }


def backup_iam():
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [
            role(BACKUP, "admin", "AROABACKUPADMIN00001", "2017-08-01T00:00:00Z",
                 managed=[ADMIN_ACCESS], trusted=DEMO),
        ],
        "Policies": [ADMIN_ACCESS],
    }


# ---- CloudTrail ----

counter = [0]


def next_id(prefix):
    counter[0] += 1
    return f"{prefix}{counter[0]:012d}"


def event_id():
    counter[0] += 1
    return f"00000000-0000-4000-8000-{counter[0]:012d}"


def iam_user(name, key):
    return {"type": "IAMUser", "principalId": f"AIDADEMO{name.upper()}", "accountId": DEMO,
            "arn": f"arn:aws:iam::{DEMO}:user/{name}", "accessKeyId": key, "userName": name}


def session(account, role_name, session_name, key, created):
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{account[:4]}{role_name.upper()}:{session_name}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": f"AROA{account[:4]}{role_name.upper()}",
                              "arn": f"arn:aws:iam::{account}:role/{role_name}",
                              "accountId": account, "userName": role_name},
            "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
        },
    }


def record(account, time, source, name, identity, request=None, response=None, error=None,
           shared=None, read_only=False):
    r = {
        "eventVersion": "1.05",
        "userIdentity": identity,
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/1.14.32 Python/3.6.4 Linux/4.14.0 botocore/1.8.36",
        "requestParameters": request,
        "responseElements": response,
        "requestID": event_id(),
        "eventID": event_id(),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "recipientAccountId": account,
    }
    if error:
        r["errorCode"] = error
        r["errorMessage"] = "User is not authorized to perform this operation"
    if shared:
        r["sharedEventID"] = shared
    return r


def assume_role(account, time, identity, role_arn, session_name, key, shared=None):
    return record(account, time, "sts.amazonaws.com", "AssumeRole", identity,
                  {"roleArn": role_arn, "roleSessionName": session_name, "durationSeconds": 3600},
                  {"credentials": {"accessKeyId": key, "sessionToken": "FQoDYXdzEXAMPLE",
                                   "expiration": "Mar 6, 2018 11:10:00 AM"},
                   "assumedRoleUser": {"assumedRoleId": f"AROADEMO:{session_name}",
                                       "arn": role_arn.replace(":iam::", ":sts::").replace(
                                           ":role/", ":assumed-role/") + "/" + session_name}},
                  shared=shared)


def sso_session(role_path_name, role_name, session_name, key, created, source_identity=None,
                on_behalf_of=None):
    """userIdentity of a call in a role session whose role has a path."""
    ident = session(DEMO, role_name, session_name, key, created)
    ident["sessionContext"]["sessionIssuer"]["arn"] = f"arn:aws:iam::{DEMO}:role{role_path_name}"
    if source_identity:
        ident["sessionContext"]["sourceIdentity"] = source_identity
    if on_behalf_of:
        ident["onBehalfOf"] = {
            "userId": on_behalf_of,
            "identityStoreArn": f"arn:aws:identitystore::{DEMO}:identitystore/{IDC_STORE}"}
    return ident


def assume_role_with_saml(time, provider, role_arn, subject, issuer, key):
    """AssumeRoleWithSAML as CloudTrail logs it (shared reference 3.5, S61,
    S78): the caller is a SAMLUser named by the subject."""
    qualifier = "aSb3NM8cDpVUfzXThQWhGbRhvwA="
    role_name = role_arn.rsplit("/", 1)[1]
    return record(
        DEMO, time, "sts.amazonaws.com", "AssumeRoleWithSAML",
        {"type": "SAMLUser", "principalId": f"{qualifier}:{subject}", "userName": subject,
         "identityProvider": qualifier},
        {"sAMLAssertionID": "_" + key.lower(), "roleSessionName": subject,
         "principalArn": provider, "roleArn": role_arn, "durationSeconds": 3600},
        {"credentials": {"accessKeyId": key, "sessionToken": "FQoDYXdzEXAMPLE",
                         "expiration": "Jun 4, 2018 2:00:00 PM"},
         "assumedRoleUser": {"assumedRoleId": f"AROADEMO:{subject}",
                             "arn": f"arn:aws:sts::{DEMO}:assumed-role/{role_name}/{subject}"},
         "packedPolicySize": 1, "subject": subject, "subjectType": "persistent",
         "issuer": issuer, "audience": "https://signin.aws.amazon.com/saml",
         "nameQualifier": qualifier})


def write_people_logs(root):
    """People behind roles, in June 2018: Identity Center users in two
    permission sets, a SAML user of another provider, an application acting
    on behalf of an Identity Center user, a role chain carrying a source
    identity, and CI sessions with made-up names."""
    sso = "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/MDEyMzQ1Njc4OTAx"
    okta = "http://www.okta.com/exk1demo0000000"
    readonly = f"arn:aws:iam::{DEMO}:role{SSO_PATH}{SSO_READONLY}"
    power = f"arn:aws:iam::{DEMO}:role{SSO_PATH}{SSO_POWER}"
    okta_role = f"arn:aws:iam::{DEMO}:role/okta-engineers"
    ro_path, pw_path = SSO_PATH + SSO_READONLY, SSO_PATH + SSO_POWER

    def call(time, source, name, identity, request=None, read_only=False):
        return record(DEMO, time, source, name, identity, request, None, read_only=read_only)

    erin_ro = sso_session(ro_path, SSO_READONLY, "erin@example.com", "ASIADEMOERINRO000001",
                          "2018-06-04T13:00:00Z")
    frank_ro = sso_session(ro_path, SSO_READONLY, "frank@example.com", "ASIADEMOFRANKRO00001",
                           "2018-06-05T09:00:00Z")
    frank_pw = sso_session(pw_path, SSO_POWER, "frank@example.com", "ASIADEMOFRANKPW00001",
                           "2018-06-06T09:00:00Z")
    trail_file(root, DEMO, "2018-06-04T13:05:00Z", [
        assume_role_with_saml("2018-06-04T13:00:00Z", SSO_PROVIDER, readonly, "erin@example.com",
                              sso, "ASIADEMOERINRO000001"),
        call("2018-06-04T13:01:00Z", "s3.amazonaws.com", "ListBuckets", erin_ro, read_only=True),
        call("2018-06-04T13:02:00Z", "ec2.amazonaws.com", "DescribeInstances", erin_ro,
             read_only=True),
    ])
    trail_file(root, DEMO, "2018-06-05T09:05:00Z", [
        assume_role_with_saml("2018-06-05T09:00:00Z", SSO_PROVIDER, readonly,
                              "frank@example.com", sso, "ASIADEMOFRANKRO00001"),
        call("2018-06-05T09:01:00Z", "ec2.amazonaws.com", "DescribeInstances", frank_ro,
             read_only=True),
    ])
    trail_file(root, DEMO, "2018-06-06T09:05:00Z", [
        assume_role_with_saml("2018-06-06T09:00:00Z", SSO_PROVIDER, power, "frank@example.com",
                              sso, "ASIADEMOFRANKPW00001"),
        call("2018-06-06T09:01:00Z", "ec2.amazonaws.com", "RunInstances", frank_pw,
             {"instanceType": "t2.micro"}),
        call("2018-06-06T09:03:00Z", "lambda.amazonaws.com", "ListFunctions20150331", frank_pw,
             read_only=True),
    ])
    # grace comes through another SAML provider (not Identity Center).
    grace = session(DEMO, "okta-engineers", "grace@example.com", "ASIADEMOGRACEOKTA001",
                    "2018-06-07T08:00:00Z")
    trail_file(root, DEMO, "2018-06-07T08:05:00Z", [
        assume_role_with_saml("2018-06-07T08:00:00Z", OKTA_PROVIDER, okta_role,
                              "grace@example.com", okta, "ASIADEMOGRACEOKTA001"),
        call("2018-06-07T08:01:00Z", "monitoring.amazonaws.com", "GetDashboard", grace,
             {"dashboardName": "prod"}, read_only=True),
    ])
    # An application's session acting on behalf of erin (identity-enhanced
    # session: userIdentity.onBehalfOf, shared reference 3.4, S75); its
    # session name says nothing about her. (Data events such as S3 GetObject
    # are left out of the demo: they would change what every role's
    # s3:getobject verdict rests on.)
    app = sso_session("/reports-app", "reports-app", "reports-7f3a", "ASIADEMOREPORTSAPP01",
                      "2018-06-08T10:00:00Z", on_behalf_of="9067a1b2c3-erin-0001")
    trail_file(root, DEMO, "2018-06-08T10:05:00Z", [
        call("2018-06-08T10:01:00Z", "athena.amazonaws.com", "StartQueryExecution", app,
             {"queryString": "SELECT * FROM q2", "workGroup": "reports"}),
    ])
    # henry assumes ops with a source identity, then deploy from that
    # session: the chain and the source identity both lead back to him
    # (shared reference 3.7, S61, S81).
    henry = iam_user("henry", "AKIADEMOHENRY0000001")
    ops = f"arn:aws:iam::{DEMO}:role/ops"
    deploy = f"arn:aws:iam::{DEMO}:role/deploy"
    hop1 = assume_role(DEMO, "2018-06-11T15:00:00Z", henry, ops, "henry", "ASIADEMOHENRYOPS0001")
    hop1["requestParameters"]["sourceIdentity"] = "henry"
    hop1["responseElements"]["sourceIdentity"] = "henry"
    in_ops = session(DEMO, "ops", "henry", "ASIADEMOHENRYOPS0001", "2018-06-11T15:00:00Z")
    in_ops["sessionContext"]["sourceIdentity"] = "henry"
    hop2 = assume_role(DEMO, "2018-06-11T15:02:00Z", in_ops, deploy, "botocore-session-1528729320",
                       "ASIADEMOHENRYDEPLOY1")
    hop2["responseElements"]["sourceIdentity"] = "henry"
    in_deploy = session(DEMO, "deploy", "botocore-session-1528729320", "ASIADEMOHENRYDEPLOY1",
                        "2018-06-11T15:02:00Z")
    in_deploy["sessionContext"]["sourceIdentity"] = "henry"
    trail_file(root, DEMO, "2018-06-11T15:05:00Z", [
        hop1,
        call("2018-06-11T15:01:00Z", "ec2.amazonaws.com", "DescribeInstances", in_ops,
             read_only=True),
        hop2,
        call("2018-06-11T15:03:00Z", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
             in_deploy, {"functionName": "billing"}),
    ])
    # kim's AssumeRoleWithSAML was logged in a region whose files are not
    # here: only her session name names her (low confidence).
    kim = session(DEMO, "okta-engineers", "kim@example.com", "ASIADEMOKIMOKTA00001",
                  "2018-06-12T08:00:00Z")
    trail_file(root, DEMO, "2018-06-12T08:05:00Z", [
        call("2018-06-12T08:01:00Z", "monitoring.amazonaws.com", "ListDashboards", kim,
             read_only=True),
    ])
    # CI: ci-runner opens ci-deploy sessions that botocore names; one
    # session's AssumeRole is not in these logs (the names say nothing).
    runner = iam_user("ci-runner", "AKIADEMOCIRUNNER0001")
    ci = f"arn:aws:iam::{DEMO}:role/ci-deploy"
    ci1 = session(DEMO, "ci-deploy", "botocore-session-1528966800", "ASIADEMOCIDEPLOY0001",
                  "2018-06-14T09:00:00Z")
    ci2 = session(DEMO, "ci-deploy", "botocore-session-1529053200", "ASIADEMOCIDEPLOY0002",
                  "2018-06-15T09:00:00Z")
    trail_file(root, DEMO, "2018-06-14T09:05:00Z", [
        assume_role(DEMO, "2018-06-14T09:00:00Z", runner, ci, "botocore-session-1528966800",
                    "ASIADEMOCIDEPLOY0001"),
        call("2018-06-14T09:01:00Z", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
             ci1, {"functionName": "build-118"}),
    ])
    trail_file(root, DEMO, "2018-06-15T09:05:00Z", [
        call("2018-06-15T09:01:00Z", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
             ci2, {"functionName": "build-119"}),
    ])


def trail_file(root, account, time, records):
    y, m, d = time[0:4], time[5:7], time[8:10]
    stamp = time[0:4] + time[5:7] + time[8:10] + "T" + time[11:13] + time[14:16] + "Z"
    folder = os.path.join(root, "AWSLogs", account, "CloudTrail", "us-east-1", y, m, d)
    os.makedirs(folder, exist_ok=True)
    name = f"{account}_CloudTrail_us-east-1_{stamp}_Demo{len(os.listdir(folder)):02d}.json.gz"
    body = json.dumps({"Records": records}, indent=1).encode()
    with open(os.path.join(folder, name), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
            gz.write(body)


def write_logs(root):
    alice_key, bob_key, charlie_key = "AKIADEMOALICE0000001", "AKIADEMOBOB000000001", "AKIADEMOCHARLIE00001"
    admin = f"arn:aws:iam::{DEMO}:role/admin"
    backup_admin = f"arn:aws:iam::{BACKUP}:role/admin"
    alice, bob, charlie = iam_user("alice", alice_key), iam_user("bob", bob_key), iam_user("charlie", charlie_key)

    # alice reads alarms as herself, then works as admin.
    trail_file(root, DEMO, "2018-03-05T10:15:00Z", [
        record(DEMO, "2018-03-05T10:11:02Z", "monitoring.amazonaws.com", "DescribeAlarms", alice,
               {"maxRecords": 100}, None, read_only=True),
        record(DEMO, "2018-03-05T10:12:40Z", "monitoring.amazonaws.com", "DescribeAlarmHistory",
               alice, {"alarmName": "high-cpu"}, None, read_only=True),
        record(DEMO, "2018-03-05T10:13:01Z", "sts.amazonaws.com", "GetCallerIdentity", alice,
               None, None, read_only=True),
    ])
    trail_file(root, DEMO, "2018-03-06T10:15:00Z", [
        assume_role(DEMO, "2018-03-06T10:10:00Z", alice, admin, "alice", "ASIADEMOALICEADMIN01"),
        record(DEMO, "2018-03-06T10:11:30Z", "s3.amazonaws.com", "CreateBucket",
               session(DEMO, "admin", "alice", "ASIADEMOALICEADMIN01", "2018-03-06T10:10:00Z"),
               {"bucketName": "alice-reports"}, None),
        record(DEMO, "2018-03-06T10:12:30Z", "iam.amazonaws.com", "CreateUser",
               session(DEMO, "admin", "alice", "ASIADEMOALICEADMIN01", "2018-03-06T10:10:00Z"),
               {"userName": "erin"},
               {"user": {"userName": "erin", "arn": f"arn:aws:iam::{DEMO}:user/erin",
                         "createDate": "Mar 6, 2018 10:12:30 AM"}}),
        record(DEMO, "2018-03-06T10:13:00Z", "monitoring.amazonaws.com", "DescribeAlarms", alice,
               {"maxRecords": 100}, None, read_only=True),
    ])
    # bob tries to create a user as himself (denied), then creates a bucket as admin.
    trail_file(root, DEMO, "2018-04-10T09:05:00Z", [
        record(DEMO, "2018-04-10T09:00:10Z", "iam.amazonaws.com", "CreateUser", bob,
               {"userName": "mallory"}, None, error="AccessDenied"),
        assume_role(DEMO, "2018-04-10T09:01:00Z", bob, admin, "bob", "ASIADEMOBOBADMIN0001"),
        record(DEMO, "2018-04-10T09:02:00Z", "s3.amazonaws.com", "CreateBucket",
               session(DEMO, "admin", "bob", "ASIADEMOBOBADMIN0001", "2018-04-10T09:01:00Z"),
               {"bucketName": "bob-scratch"}, None),
    ])
    # charlie assumes backup's admin role: the call is logged in both accounts.
    shared = "11111111-2222-4333-8444-555555555555"
    trail_file(root, DEMO, "2018-05-02T14:05:00Z", [
        assume_role(DEMO, "2018-05-02T14:00:00Z", charlie, backup_admin, "charlie",
                    "ASIABACKUPCHARLIE001", shared=shared),
    ])
    cross = assume_role(BACKUP, "2018-05-02T14:00:00Z",
                        {"type": "AWSAccount", "principalId": "AIDADEMOCHARLIE00001",
                         "accountId": DEMO},
                        backup_admin, "charlie", "ASIABACKUPCHARLIE001", shared=shared)
    trail_file(root, BACKUP, "2018-05-02T14:05:00Z", [
        cross,
        record(BACKUP, "2018-05-02T14:02:00Z", "s3.amazonaws.com", "CreateBucket",
               session(BACKUP, "admin", "charlie", "ASIABACKUPCHARLIE001", "2018-05-02T14:00:00Z"),
               {"bucketName": "backup-charlie"}, None),
    ])
    write_people_logs(root)
    # A digest file, as CloudTrail writes them beside the logs: not events.
    digest = os.path.join(root, "AWSLogs", DEMO, "CloudTrail-Digest", "us-east-1", "2018", "03", "06")
    os.makedirs(digest, exist_ok=True)
    with open(os.path.join(digest, f"{DEMO}_CloudTrail-Digest_us-east-1_demo_us-east-1_20180306T110000Z.json.gz"), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
            gz.write(json.dumps({"awsAccountId": DEMO, "digestStartTime": "2018-03-06T10:00:00Z",
                                 "logFiles": []}).encode())


def main():
    iam_dir = os.path.join(HERE, "iam")
    logs = os.path.join(HERE, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(iam_dir, exist_ok=True)
    for name, doc in (("demo.json", demo_iam()), ("backup.json", backup_iam()),
                      ("identity-store.json", identity_store())):
        with open(os.path.join(iam_dir, name), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    write_logs(logs)


if __name__ == "__main__":
    main()
