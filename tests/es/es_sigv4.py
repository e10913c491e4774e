"""AWS Signature Version 4 verification, as Amazon OpenSearch Service does it.

Implements the documented SigV4 algorithm (AWS General Reference, "Create a
canonical request" / "Create a string to sign" / "Calculate the signature")
with hmac and hashlib, for header-based signing:

  CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQuery \\n
                     CanonicalHeaders \\n SignedHeaders \\n HexPayloadHash
  CanonicalURI     = the path as received, dot segments and duplicate
                     slashes removed, then every byte outside
                     A-Z a-z 0-9 - _ . ~ / percent-encoded (upper-case hex).
                     The path on the wire is already encoded once, so this
                     is the "encode twice" rule of every service but S3:
                     a '*' sent raw is signed as %2A, and a %2C on the wire is
                     signed as %252C.
  CanonicalQuery   = parameters decoded, re-encoded the same way, sorted by
                     name then value, "k=v" joined by '&' ("k=" when empty).
  CanonicalHeaders = lower-case names of the SignedHeaders, values trimmed
                     with inner whitespace runs collapsed, one "name:value\\n"
                     each, sorted.
  HexPayloadHash   = the x-amz-content-sha256 header when present (required
                     by OpenSearch Serverless, service "aoss"), else
                     hex(sha256(body as sent)).
  StringToSign     = "AWS4-HMAC-SHA256" \\n X-Amz-Date \\n
                     date/region/service/aws4_request \\n hex(sha256(CR))
  SigningKey       = HMAC chain "AWS4"+secret -> date -> region -> service
                     -> "aws4_request"

Failures answer 403 with the JSON bodies Amazon OpenSearch returns
({"message": ...}, or {"Message": ...} for an unsigned request).
"""

import datetime
import hashlib
import hmac
import posixpath
import re
from urllib.parse import quote, unquote

from es_common import EsError

MISMATCH = ("The request signature we calculated does not match the signature "
            "you provided. Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")
SKEW_SECONDS = 15 * 60


class Credentials:
    def __init__(self, access_key, secret_key, region, service, token=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.service = service
        self.token = token


def _deny(message, key="message"):
    return EsError(403, {key: message})


def _encode(text):
    """AWS URI encoding: unreserved characters kept, the rest %XX."""
    return quote(text, safe="-_.~")


def canonical_uri(raw_path):
    """Canonical URI of a raw (as received) request path for non-S3 services."""
    path = raw_path or "/"
    trailing = path.endswith("/") and path != "/"
    normalized = posixpath.normpath(path)
    # normpath keeps a leading "//"; AWS collapses every duplicate slash.
    normalized = re.sub(r"/{2,}", "/", normalized)
    if normalized == ".":
        normalized = "/"
    if trailing and not normalized.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/-_.~")


def canonical_query(raw_query):
    pairs = []
    for part in (raw_query or "").split("&"):
        if part == "":
            continue
        name, _, value = part.partition("=")
        pairs.append((_encode(unquote(name)), _encode(unquote(value))))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def _header_value(values):
    return ",".join(re.sub(r"\s+", " ", v.strip()) for v in values)


def signing_key(secret, date, region, service):
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def parse_authorization(value):
    """The Credential, SignedHeaders and Signature of an Authorization header."""
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    out = {}
    for item in value[len("AWS4-HMAC-SHA256 "):].split(","):
        key, _, val = item.strip().partition("=")
        out[key] = val
    return out


def verify(method, raw_path, raw_query, headers, body, creds, now=None):
    """Check a request's SigV4 signature; raise EsError(403) when invalid.

    `headers` is a list of (name, value) as received. Returns a dict with
    the canonical request and string to sign (useful in the request log).
    """
    lookup = {}
    for name, value in headers:
        lookup.setdefault(name.lower(), []).append(value)
    auth = (lookup.get("authorization") or [None])[0]
    if not auth:
        action = "ESHttp" + method.capitalize()
        return_msg = "User: anonymous is not authorized to perform: es:%s" % action
        raise _deny(return_msg, key="Message")
    parsed = parse_authorization(auth)
    if parsed is None:
        raise _deny("Authorization header requires 'Credential' parameter. "
                    "Authorization header requires 'Signature' parameter. "
                    "Authorization header requires 'SignedHeaders' parameter. "
                    "Authorization header requires existence of either a "
                    "'X-Amz-Date' or a 'Date' header. Authorization=" +
                    auth.split(" ")[0])
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parsed.get(k)]
    if missing:
        raise _deny(" ".join("Authorization header requires '%s' parameter." % k
                             for k in missing))
    scope = parsed["Credential"].split("/")
    if len(scope) != 5:
        raise _deny("Credential should be scoped to a valid region. ")
    access_key, date, region, service, terminator = scope
    if access_key != creds.access_key:
        raise _deny("The security token included in the request is invalid.")
    if terminator != "aws4_request":
        raise _deny("Credential should be scoped with a valid terminator: "
                    "'aws4_request', not '%s'." % terminator)
    if region != creds.region:
        raise _deny("Credential should be scoped to a valid region. ")
    if service != creds.service:
        raise _deny("Credential should be scoped to correct service: '%s'. "
                    % creds.service)
    amz_date = (lookup.get("x-amz-date") or [None])[0]
    if not amz_date:
        raise _deny("Authorization header requires existence of either a "
                    "'X-Amz-Date' or a 'Date' header.")
    try:
        stamp = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise _deny("X-Amz-Date must be in the ISO8601 Long Format "
                    "\"yyyyMMdd'T'HHmmss'Z'\"")
    if amz_date[:8] != date:
        raise _deny("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                    "version of date from HTTP: '%s' != '%s', from '%s'."
                    % (date, amz_date[:8], amz_date))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y%m%dT%H%M%SZ"
    if stamp < now - datetime.timedelta(seconds=SKEW_SECONDS):
        raise _deny("Signature expired: %s is now earlier than %s (%s - 15 min.)"
                    % (amz_date, (now - datetime.timedelta(seconds=SKEW_SECONDS))
                       .strftime(fmt), now.strftime(fmt)))
    if stamp > now + datetime.timedelta(seconds=SKEW_SECONDS):
        raise _deny("Signature not yet current: %s is still later than %s (%s + 15 min.)"
                    % (amz_date, (now + datetime.timedelta(seconds=SKEW_SECONDS))
                       .strftime(fmt), now.strftime(fmt)))
    if creds.token is not None:
        token = (lookup.get("x-amz-security-token") or [None])[0]
        if token != creds.token:
            raise _deny("The security token included in the request is invalid.")
    signed = parsed["SignedHeaders"].split(";")
    if "host" not in signed:
        raise _deny("'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                    "Authorization.")
    content_sha = (lookup.get("x-amz-content-sha256") or [None])[0]
    actual_sha = hashlib.sha256(body or b"").hexdigest()
    if creds.service == "aoss" and content_sha is None:
        raise _deny("x-amz-content-sha256 header is required for Amazon OpenSearch "
                    "Serverless requests")
    if content_sha is not None and content_sha != "UNSIGNED-PAYLOAD" and \
            content_sha != actual_sha:
        raise _deny("The provided 'x-amz-content-sha256' header does not match what "
                    "was computed.")
    payload_hash = content_sha if content_sha is not None else actual_sha
    canonical_headers = "".join("%s:%s\n" % (h, _header_value(lookup.get(h, [""])))
                                for h in signed)
    canonical_request = "\n".join([
        method, canonical_uri(raw_path), canonical_query(raw_query),
        canonical_headers, parsed["SignedHeaders"], payload_hash])
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, "/".join([date, region, service, "aws4_request"]),
        hashlib.sha256(canonical_request.encode()).hexdigest()])
    expected = hmac.new(signing_key(creds.secret_key, date, region, service),
                        string_to_sign.encode(), hashlib.sha256).hexdigest()
    detail = {"canonical_request": canonical_request, "string_to_sign": string_to_sign}
    if not hmac.compare_digest(expected, parsed["Signature"]):
        err = _deny(MISMATCH)
        err.sigv4_detail = detail
        raise err
    return detail
