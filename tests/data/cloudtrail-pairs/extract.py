#!/usr/bin/env python3
"""Collect the (eventSource, eventName) pairs of real CloudTrail records.

Reads the sources named on the command line (files, folders, or the files of a
commit in a git repository), finds every CloudTrail record in them (an object
with string fields eventSource and eventName), keeps the records that look like
real ones, and writes pairs.tsv: one row per distinct (eventSource, eventName)
with the eventType values seen and the keys of the sources it was seen in.

Python 3 standard library only. Usage:

    extract.py [-o pairs.tsv] [--exclude exclude.tsv] [--where where.tsv] SOURCE...

    SOURCE  KEY=PATH                        a file or a folder (walked) on disk
            KEY=GITDIR@COMMIT[:PATH,...]    the files of COMMIT (under the given
                                            paths, default all) in a git
                                            repository, bare or not, read with git

GITDIR may be a bare repository or a clone with a work tree. The same KEY may
be given several times; KEY/LABEL (awsdocs/kms) counts the records of one part
of a source apart in --stats, and writes KEY in pairs.tsv. SOURCES.md holds
the command that made pairs.tsv.

What is read: .json, .jsonl, .ndjson, .log, .txt, .yml, .yaml, .md, .py, .js,
.ts, .go, .rs, .java, .ipynb, .csv files, and the same inside .zip and .gz
files. JSON and YAML are parsed (YAML with the small block/flow parser below,
which covers what detection-rule repositories write); when a file does not
parse, and for Markdown and code, a tolerant scanner reads the JSON-like
objects in the text ("..." elisions, comments and Python literals are skipped
over). A string value that holds a JSON document (a CloudWatch Logs message, a
CloudTrail Lake "CloudTrailEvent") is read too.

What counts as a real record: eventSource is a host name under amazonaws.com,
eventName a word of printable ASCII starting with a letter (an API name, or the
URL the Identity Center portal logs), and the object has at least MIN_FIELDS of the
fields every CloudTrail record carries (eventVersion, eventTime, eventID, ...):
hand-written test stubs with two or three fields are left out. exclude.tsv
(beside this script) lists pairs a reviewer found not to be real, with the
reason; they are left out too.
"""

import argparse
import gzip
import io
import json
import os
import re
import subprocess
import sys
import zipfile

# Fields of the CloudTrail record body (CloudTrail user guide, "CloudTrail
# record contents"), not counting eventSource and eventName.
RECORD_FIELDS = frozenset(
    [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "requestID",
        "eventID",
        "eventType",
        "apiVersion",
        "managementEvent",
        "readOnly",
        "resources",
        "recipientAccountId",
        "serviceEventDetails",
        "sharedEventID",
        "vpcEndpointId",
        "eventCategory",
        "tlsDetails",
        "sessionCredentialFromConsole",
        "edgeDeviceDetails",
        "insightDetails",
    ]
)
MIN_FIELDS = 4

# CloudTrail user guide, "CloudTrail record contents" (eventType) and
# "CloudTrail Insights events" (AwsCloudTrailInsight).
EVENT_TYPES = {
    t.lower(): t
    for t in (
        "AwsApiCall",
        "AwsServiceEvent",
        "AwsConsoleAction",
        "AwsConsoleSignIn",
        "AwsVpceEvent",
        "AwsCloudTrailInsight",
    )
}

SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.amazonaws\.com(\.cn)?$")
# eventName: usually an API operation name, but the Identity Center portal logs
# the URL it served ("https://portal.sso.us-east-1.amazonaws.com/instance/
# appinstances"), so any printable ASCII without spaces is taken.
NAME_RE = re.compile(r"^[A-Za-z][\x21-\x7e]{1,255}$")

TEXT_EXTS = (
    ".json",
    ".jsonl",
    ".ndjson",
    ".log",
    ".txt",
    ".yml",
    ".yaml",
    ".md",
    ".py",
    ".js",
    ".ts",
    ".go",
    ".rs",
    ".java",
    ".ipynb",
    ".csv",
)
MAX_FILE = 64 * 1024 * 1024


# ---------------------------------------------------------------------------
# Records


class Collector:
    def __init__(self):
        # (eventSource, eventName) -> {"types": eventType set, "keys": source
        # keys, "labels": KEY or KEY/LABEL, "where": {label: first file}}
        self.pairs = {}
        self.records = {}  # label -> records kept
        self.dropped = {}  # label -> records left out (too few fields)
        self.key = None
        self.label = None
        self.path = None

    def record(self, fields):
        """fields: dict of the object's top-level keys; string values kept."""
        src = fields.get("eventSource")
        name = fields.get("eventName")
        if not isinstance(src, str) or not isinstance(name, str):
            return
        src = src.strip()
        name = name.strip()
        if not SOURCE_RE.match(src) or not NAME_RE.match(name):
            return
        n = sum(1 for k in fields if k in RECORD_FIELDS)
        if n < MIN_FIELDS:
            self.dropped[self.label] = self.dropped.get(self.label, 0) + 1
            return
        self.records[self.label] = self.records.get(self.label, 0) + 1
        etype = fields.get("eventType")
        # The eventType values CloudTrail writes; a case slip ("AwsConsoleSignin"
        # in one AWS documentation example) is read as the value it stands for,
        # and anything else ("..." in an elided example) as no eventType.
        etype = EVENT_TYPES.get(etype.strip().lower()) if isinstance(etype, str) else None
        p = self.pairs.setdefault(
            (src, name), {"types": set(), "keys": set(), "labels": set(), "where": {}}
        )
        if etype:
            p["types"].add(etype)
        p["keys"].add(self.key)
        p["labels"].add(self.label)
        p["where"].setdefault(self.label, self.path)


def embedded_json(s):
    """A string that itself holds a JSON record (or list of them)."""
    t = s.strip()
    if len(t) > 20 and t[0] in "{[" and "eventName" in t and "eventSource" in t:
        try:
            return json.loads(t)
        except ValueError:
            return None
    return None


def walk(value, col, depth=0):
    """Walk parsed JSON/YAML, reporting every object with eventSource/eventName."""
    if depth > 64:
        return
    if isinstance(value, dict):
        if "eventSource" in value and "eventName" in value:
            col.record(value)
        for v in value.values():
            walk(v, col, depth + 1)
    elif isinstance(value, list):
        for v in value:
            walk(v, col, depth + 1)
    elif isinstance(value, str):
        inner = embedded_json(value)
        if inner is not None:
            walk(inner, col, depth + 1)
        elif "eventSource" in value and "eventName" in value and len(value) > 40:
            scan_text(value, col, depth + 1)


# ---------------------------------------------------------------------------
# Tolerant scanner: JSON-like objects in any text


TOKEN_RE = re.compile(
    r"""
    (?P<dq>"(?:[^"\\\n]|\\.)*")
  | (?P<sq>'(?:[^'\\\n]|\\.)*')
  | (?P<open>[{\[])
  | (?P<close>[}\]])
  | (?P<colon>:)
  | (?P<comma>,)
  | (?P<word>[^\s"'{}\[\]:,]+)
  | (?P<ws>\s+)
    """,
    re.VERBOSE,
)


def unquote(tok):
    body = tok[1:-1]
    if tok[0] == '"':
        try:
            return json.loads(tok)
        except ValueError:
            return body
    return body.replace("\\'", "'")


def scan_text(text, col, depth=0):
    """Read the JSON-like objects of text without requiring it to parse.

    Each open object keeps its keys (and its string values); when it closes
    with eventSource and eventName among them, it is reported. Anything that
    is not a string, bracket, colon or comma (elisions, comments, Python
    words) is treated as a bare value or ignored.
    """
    if depth > 64:
        return
    stack = []  # frames: {"obj": bool, "fields": dict, "key": str|None, "after_colon": bool}
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        tok = m.group()
        if kind == "ws":
            continue
        top = stack[-1] if stack else None
        if kind == "open":
            if top is not None and top["obj"] and top["key"] is not None and top["after_colon"]:
                top["fields"][top["key"]] = True
                top["key"] = None
                top["after_colon"] = False
            stack.append({"obj": tok == "{", "fields": {}, "key": None, "after_colon": False})
        elif kind == "close":
            if not stack:
                continue
            frame = stack.pop()
            if frame["obj"] and "eventSource" in frame["fields"] and "eventName" in frame["fields"]:
                col.record(frame["fields"])
        elif top is None or not top["obj"]:
            if kind in ("dq", "sq") and "eventSource" in tok and len(tok) > 40:
                inner = unquote(tok)
                if inner != tok:
                    scan_text(inner, col, depth + 1)
            continue
        elif kind == "colon":
            if top["key"] is not None:
                top["after_colon"] = True
        elif kind == "comma":
            top["key"] = None
            top["after_colon"] = False
        elif kind in ("dq", "sq", "word"):
            s = unquote(tok) if kind != "word" else tok
            if top["after_colon"] and top["key"] is not None:
                top["fields"][top["key"]] = s if kind != "word" else True
                if kind != "word" and "eventSource" in s and len(s) > 40:
                    scan_text(s, col, depth + 1)
                top["key"] = None
                top["after_colon"] = False
            else:
                top["key"] = s
                top["after_colon"] = False


# ---------------------------------------------------------------------------
# A small YAML reader: block mappings and sequences, flow collections, quoted,
# plain and block scalars, comments, documents. Enough for detection-rule
# test files; anything it cannot read raises YamlError and the caller falls
# back to the tolerant scanner.


class YamlError(Exception):
    pass


def _strip_comment(line):
    """Drop a trailing comment that is not inside quotes."""
    out = []
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            out.append(ch)
            if quote == '"' and ch == "\\" and i + 1 < len(line):
                out.append(line[i + 1])
                i += 1
            elif ch == quote:
                if quote == "'" and i + 1 < len(line) and line[i + 1] == "'":
                    out.append("'")
                    i += 1
                else:
                    quote = None
        else:
            if ch == "#" and (i == 0 or line[i - 1] in " \t"):
                break
            if ch in "\"'" and (i == 0 or line[i - 1] in " \t[{,:-"):
                quote = ch
            out.append(ch)
        i += 1
    return "".join(out).rstrip()


def _scalar(s):
    s = s.strip()
    if not s:
        return None
    if s[0] == '"' and s[-1] == '"' and len(s) >= 2:
        try:
            return json.loads(s.replace("\t", "\\t"))
        except ValueError:
            return s[1:-1]
    if s[0] == "'" and s[-1] == "'" and len(s) >= 2:
        return s[1:-1].replace("''", "'")
    if s in ("null", "~", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    return s


class _Flow:
    """Parser for a YAML flow collection ({...} or [...])."""

    def __init__(self, text):
        self.t = text
        self.i = 0

    def ws(self):
        while self.i < len(self.t):
            ch = self.t[self.i]
            if ch in " \t\r\n":
                self.i += 1
            elif ch == "#" and (self.i == 0 or self.t[self.i - 1] in " \t\n"):
                while self.i < len(self.t) and self.t[self.i] != "\n":
                    self.i += 1
            else:
                break

    def value(self):
        self.ws()
        if self.i >= len(self.t):
            raise YamlError("flow: end of text")
        ch = self.t[self.i]
        if ch == "{":
            return self.mapping()
        if ch == "[":
            return self.sequence()
        if ch == '"':
            j = self.i + 1
            while j < len(self.t):
                if self.t[j] == "\\":
                    j += 2
                    continue
                if self.t[j] == '"':
                    break
                j += 1
            raw = self.t[self.i : j + 1]
            self.i = j + 1
            try:
                return json.loads(re.sub(r"\s*\n\s*", " ", raw))
            except ValueError:
                return raw[1:-1]
        if ch == "'":
            j = self.i + 1
            while j < len(self.t):
                if self.t[j] == "'":
                    if j + 1 < len(self.t) and self.t[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            raw = self.t[self.i + 1 : j]
            self.i = j + 1
            return re.sub(r"\s*\n\s*", " ", raw.replace("''", "'"))
        j = self.i
        while j < len(self.t):
            c = self.t[j]
            if c in ",]}":
                break
            if c == ":" and (j + 1 >= len(self.t) or self.t[j + 1] in " \t\r\n,]}"):
                break
            j += 1
        raw = self.t[self.i : j]
        self.i = j
        return _scalar(re.sub(r"\s*\n\s*", " ", raw))

    def mapping(self):
        self.i += 1
        out = {}
        while True:
            self.ws()
            if self.i >= len(self.t):
                raise YamlError("flow: unclosed {")
            if self.t[self.i] == "}":
                self.i += 1
                return out
            key = self.value()
            self.ws()
            val = None
            if self.i < len(self.t) and self.t[self.i] == ":":
                self.i += 1
                self.ws()
                if self.i < len(self.t) and self.t[self.i] not in ",}":
                    val = self.value()
            out[key if isinstance(key, str) else json.dumps(key)] = val
            self.ws()
            if self.i < len(self.t) and self.t[self.i] == ",":
                self.i += 1
            elif self.i < len(self.t) and self.t[self.i] == "}":
                continue
            else:
                raise YamlError("flow: expected , or }")

    def sequence(self):
        self.i += 1
        out = []
        while True:
            self.ws()
            if self.i >= len(self.t):
                raise YamlError("flow: unclosed [")
            if self.t[self.i] == "]":
                self.i += 1
                return out
            out.append(self.value())
            self.ws()
            if self.i < len(self.t) and self.t[self.i] == ",":
                self.i += 1
            elif self.i < len(self.t) and self.t[self.i] == "]":
                continue
            else:
                raise YamlError("flow: expected , or ]")


def _flow_balanced(text):
    """True when the brackets of text (outside quotes) are balanced."""
    depth = 0
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if quote == '"' and ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            if ch == '"' or i == 0 or text[i - 1] in " \t\n[{,:":
                quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n"):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        i += 1
    return depth <= 0 and quote is None


KEY_RE = re.compile(r"""^(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[][^#]*?)\s*:(?:\s+|$)(?P<rest>.*)$""")


class _Block:
    def __init__(self, text):
        self.lines = text.split("\n")
        self.n = len(self.lines)
        self.i = 0

    @staticmethod
    def indent(line):
        return len(line) - len(line.lstrip(" "))

    def skip_blank(self):
        while self.i < self.n:
            s = self.lines[self.i].strip()
            if s and not s.startswith("#"):
                return True
            self.i += 1
        return False

    def node(self, min_indent):
        """The node starting at the next content line (indent >= min_indent)."""
        if not self.skip_blank():
            return None
        line = self.lines[self.i]
        ind = self.indent(line)
        if ind < min_indent:
            return None
        body = line[ind:]
        if body.startswith("- ") or body == "-":
            return self.seq(ind)
        if KEY_RE.match(_strip_comment(body)) and not body.startswith(("{", "[")):
            return self.map(ind)
        # a scalar alone on its line(s): continuation lines may share its indent
        return self.inline_value(body, ind - 1, ind)

    def block_scalar(self, header, parent_indent):
        fold = header[0] == ">"
        lines = []
        ind = None
        while self.i < self.n:
            line = self.lines[self.i]
            if line.strip() == "":
                lines.append("")
                self.i += 1
                continue
            li = self.indent(line)
            if li <= parent_indent:
                break
            if ind is None:
                ind = li
            lines.append(line[min(ind, li) :])
            self.i += 1
        while lines and lines[-1] == "":
            lines.pop()
        return (" " if fold else "\n").join(lines)

    def inline_value(self, rest, parent_indent, first_indent):
        """The value whose text starts with rest on the current line."""
        rest_c = _strip_comment(rest)
        if rest_c.startswith(("{", "[")):
            text = rest_c
            self.i += 1
            while not _flow_balanced(text) and self.i < self.n:
                text += "\n" + self.lines[self.i]
                self.i += 1
            f = _Flow(text)
            v = f.value()
            return v
        if rest_c.startswith(("|", ">")) and re.match(r"^[|>][0-9+-]*$", rest_c):
            self.i += 1
            return self.block_scalar(rest_c, parent_indent)
        if rest_c.startswith(("&", "!")):
            parts = rest_c.split(None, 1)
            rest_c = parts[1] if len(parts) > 1 else ""
            if not rest_c:
                self.i += 1
                return self.node(parent_indent + 1)
            return self.inline_value(rest_c, parent_indent, first_indent)
        # plain or quoted scalar, possibly continued on more-indented lines
        text = rest_c
        self.i += 1
        if text[:1] in "\"'" and not (len(text) > 1 and text.endswith(text[0])):
            while self.i < self.n:
                nxt = self.lines[self.i].strip()
                self.i += 1
                text += " " + nxt
                if nxt.endswith(text[0]):
                    break
        else:
            while self.i < self.n:
                nxt = self.lines[self.i]
                if nxt.strip() == "" or self.indent(nxt) <= parent_indent:
                    break
                s = nxt.strip()
                if s.startswith("#") or KEY_RE.match(s) or s.startswith("- "):
                    break
                text += " " + s
                self.i += 1
        return _scalar(text)

    def map(self, ind):
        out = {}
        while self.skip_blank():
            line = self.lines[self.i]
            li = self.indent(line)
            if li < ind:
                break
            if li > ind:
                raise YamlError("bad indentation at line %d" % (self.i + 1))
            body = _strip_comment(line[li:])
            if body.startswith("- "):
                break
            if body in ("---", "..."):
                break
            m = KEY_RE.match(body)
            if not m:
                raise YamlError("expected key at line %d" % (self.i + 1))
            key = _scalar(m.group("key"))
            rest = m.group("rest")
            if not isinstance(key, str):
                key = json.dumps(key)
            if rest.strip() == "":
                self.i += 1
                # value on following lines: more indented, or a sequence at the same indent
                if self.skip_blank():
                    nl = self.lines[self.i]
                    ni = self.indent(nl)
                    if ni > ind or (ni == ind and nl[ni:].startswith("- ")):
                        out[key] = self.node(ni)
                        continue
                out[key] = None
            else:
                out[key] = self.inline_value(rest, ind, li)
        return out

    def seq(self, ind):
        out = []
        while self.skip_blank():
            line = self.lines[self.i]
            li = self.indent(line)
            if li != ind:
                if li < ind:
                    break
                raise YamlError("bad indentation at line %d" % (self.i + 1))
            body = line[li:]
            if not (body.startswith("- ") or body.rstrip() == "-"):
                break
            rest = body[2:] if body.startswith("- ") else ""
            if rest.strip() == "" or rest.strip().startswith("#"):
                self.i += 1
                out.append(self.node(ind + 1))
                continue
            sub = len(body) - len(body[2:].lstrip(" "))
            item_ind = li + sub
            if KEY_RE.match(_strip_comment(rest.lstrip())) and not rest.lstrip().startswith(("{", "[", '"', "'")):
                # "- key: value" starts a mapping at column item_ind
                self.lines[self.i] = " " * item_ind + rest.lstrip()
                out.append(self.map(item_ind))
            elif rest.lstrip().startswith("- "):
                self.lines[self.i] = " " * item_ind + rest.lstrip()
                out.append(self.seq(item_ind))
            else:
                out.append(self.inline_value(rest.lstrip(), ind, item_ind))
        return out


def parse_yaml(text):
    """Every document of text, parsed; raises YamlError."""
    docs = []
    chunk = []
    for line in text.split("\n"):
        if line.rstrip() in ("---", "...") or line.startswith("--- "):
            if any(x.strip() for x in chunk):
                docs.append("\n".join(chunk))
            chunk = [line[4:]] if line.startswith("--- ") else []
        elif line.startswith("%"):
            continue
        else:
            chunk.append(line.replace("\t", "    ") if not line.strip() else line)
    if any(x.strip() for x in chunk):
        docs.append("\n".join(chunk))
    out = []
    for d in docs:
        b = _Block(d)
        v = b.node(0)
        if b.skip_blank():
            raise YamlError("text left over at line %d" % (b.i + 1))
        out.append(v)
    return out


# ---------------------------------------------------------------------------
# Files


FENCE_RE = re.compile(r"^\s*```[^\n]*\n(.*?)^\s*```", re.S | re.M)


def read_text(name, data, col):
    lower = name.lower()
    if lower.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return
        return read_text(name[:-3], data, col)
    if lower.endswith(".zip"):
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            return
        for info in zf.infolist():
            if info.is_dir() or info.file_size > MAX_FILE:
                continue
            if not info.filename.lower().endswith(TEXT_EXTS + (".zip", ".gz")):
                continue
            try:
                member = zf.read(info)
            except (RuntimeError, NotImplementedError, zipfile.BadZipFile, OSError):
                continue  # encrypted or unsupported member
            read_text(name + "!" + info.filename, member, col)
        return
    if not lower.endswith(TEXT_EXTS):
        return
    if b"eventName" not in data or b"eventSource" not in data:
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    col.path = name
    if lower.endswith((".json", ".ipynb")):
        try:
            walk(json.loads(text), col)
            return
        except ValueError:
            pass
    if lower.endswith((".json", ".jsonl", ".ndjson", ".log", ".txt")):
        # JSON lines: every non-empty line a document
        lines = [x for x in text.splitlines() if x.strip()]
        try:
            docs = [json.loads(x) for x in lines]
        except ValueError:
            docs = None
        if docs is not None:
            for d in docs:
                walk(d, col)
            return
        scan_text(text, col)
        return
    if lower.endswith((".yml", ".yaml")):
        try:
            docs = parse_yaml(text)
        except (YamlError, RecursionError, IndexError):
            docs = None
        if docs is not None:
            for d in docs:
                walk(d, col)
            return
        scan_text(text, col)
        return
    if lower.endswith(".md"):
        blocks = FENCE_RE.findall(text)
        for b in blocks:
            try:
                walk(json.loads(b), col)
            except ValueError:
                scan_text(b, col)
        return
    scan_text(text, col)


def read_path(path, col):
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            for f in sorted(files):
                p = os.path.join(root, f)
                if os.path.getsize(p) <= MAX_FILE:
                    with open(p, "rb") as fh:
                        read_text(p, fh.read(), col)
    else:
        with open(path, "rb") as fh:
            read_text(path, fh.read(), col)


def read_git(gitdir, commit, paths, col):
    if os.path.isdir(os.path.join(gitdir, ".git")):
        gitdir = os.path.join(gitdir, ".git")  # a clone with a work tree
    cmd = ["git", "--git-dir", gitdir, "ls-tree", "-r", "-z", "--full-tree", commit, "--"] + paths
    listing = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout
    entries = []
    for ent in listing.split(b"\0"):
        if not ent:
            continue
        meta, name = ent.split(b"\t", 1)
        mode, typ, oid = meta.split()
        if typ != b"blob":
            continue
        name = name.decode("utf-8", "replace")
        if name.lower().endswith(TEXT_EXTS + (".zip", ".gz")):
            entries.append((name, oid.decode()))
    if not entries:
        return
    proc = subprocess.Popen(
        ["git", "--git-dir", gitdir, "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    for name, oid in entries:
        proc.stdin.write((oid + "\n").encode())
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)
        if size <= MAX_FILE:
            read_text(name, data, col)
    proc.stdin.close()
    proc.wait()


SPEC_RE = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)(?:/(?P<label>[A-Za-z0-9_.-]+))?=(?P<rest>.+)$")
GIT_RE = re.compile(r"^(?P<dir>[^@]+)@(?P<commit>[0-9A-Za-z^~._/-]+)(?::(?P<paths>.*))?$")


def read_exclusions(path):
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) >= 3:
                out[(f[0], f[1])] = f[2]
    return out


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default="-", help="pairs file to write (default stdout)")
    ap.add_argument(
        "--exclude",
        default=os.path.join(here, "exclude.tsv"),
        help="pairs to leave out: eventSource<TAB>eventName<TAB>reason (default: exclude.tsv beside this script)",
    )
    ap.add_argument("--where", help="also write, per pair and source, the first file it was seen in")
    ap.add_argument("--stats", action="store_true", help="print records and pairs per source on stderr")
    ap.add_argument("sources", nargs="+", metavar="SOURCE")
    args = ap.parse_args(argv)

    col = Collector()
    order = []  # keys, in command-line order
    labels = []  # labels (KEY or KEY/LABEL), in command-line order
    for spec in args.sources:
        m = SPEC_RE.match(spec)
        if not m:
            ap.error("SOURCE must be KEY=PATH or KEY=GITDIR@COMMIT[:PATH,...]: %s" % spec)
        key, rest = m.group("key"), m.group("rest")
        label = key + "/" + m.group("label") if m.group("label") else key
        if key not in order:
            order.append(key)
        if label not in labels:
            labels.append(label)
        col.key, col.label = key, label
        g = GIT_RE.match(rest)
        if os.path.exists(rest):
            read_path(rest, col)
        elif g and os.path.isdir(g.group("dir")):
            paths = [p for p in (g.group("paths") or "").split(",") if p]
            read_git(g.group("dir"), g.group("commit"), paths, col)
        else:
            ap.error("no such file, folder or git repository: %s" % rest)

    excluded = read_exclusions(args.exclude)
    rank = {k: i for i, k in enumerate(order)}
    lrank = {k: i for i, k in enumerate(labels)}
    rows = []
    for (src, name), p in col.pairs.items():
        if (src, name) in excluded:
            continue
        types = ",".join(sorted(p["types"])) or "-"
        keys = "; ".join(sorted(p["keys"], key=lambda k: rank[k]))
        rows.append((src, name, types, keys, p))
    rows.sort(key=lambda r: (r[0], r[1]))

    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    out.write("# Real CloudTrail (eventSource, eventName) pairs, one row each, sorted.\n")
    out.write("# Made by extract.py (beside this file) from the sources listed in SOURCES.md;\n")
    out.write("# the exact command is there. Only records with at least %d of the standard\n" % MIN_FIELDS)
    out.write("# CloudTrail record fields are counted; pairs in exclude.tsv are left out.\n")
    out.write("# event_types: the distinct eventType values of the pair's records ('-': none);\n")
    out.write("# sources: the keys (SOURCES.md) of the sources it was seen in.\n")
    out.write("# The last comment line names the columns.\n")
    out.write("# event_source\tevent_name\tevent_types\tsources\n")
    for src, name, types, keys, _ in rows:
        out.write("%s\t%s\t%s\t%s\n" % (src, name, types, keys))
    if out is not sys.stdout:
        out.close()

    if args.where:
        with open(args.where, "w", encoding="utf-8") as fh:
            for src, name, _, _, p in rows:
                for lab in sorted(p["where"], key=lambda k: lrank[k]):
                    fh.write("%s\t%s\t%s\t%s\n" % (src, name, lab, p["where"][lab]))

    if args.stats:
        for lab in labels:
            npairs = sum(1 for r in rows if lab in r[4]["labels"])
            only = sum(1 for r in rows if r[4]["labels"] == {lab})
            sys.stderr.write(
                "%-28s records %6d  (left out, too few fields: %d)  pairs %5d  (only here: %d)\n"
                % (lab, col.records.get(lab, 0), col.dropped.get(lab, 0), npairs, only)
            )
        sys.stderr.write("total pairs %d (%d listed in the exclusions)\n" % (len(rows), len(excluded)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
