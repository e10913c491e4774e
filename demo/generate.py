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
    for name, doc in (("demo.json", demo_iam()), ("backup.json", backup_iam())):
        with open(os.path.join(iam_dir, name), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    write_logs(logs)


if __name__ == "__main__":
    main()
