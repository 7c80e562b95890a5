#!/usr/bin/env python3
"""policy_fuzz.py - bounded-time fuzzer for governance.load_policy(yaml text).

Mutates the bundled policies (../../policies/*.yaml, plus a small built-in
policy that reaches every rule kind quickly) and feeds the mutants to
governance.load_policy() through psql, in batches: one psql process per
batch, one DO block per document, the outcome of each load recorded in a
temporary table and read back at the end of the batch.

Connection: psql with the usual environment (PGHOST, PGPORT, PGUSER,
PGDATABASE).  Standard library only.

    policy_fuzz.py [--seconds 60] [--seed S] [--batch 200] [--keep-going]
    policy_fuzz.py --replay FILE...      # run saved documents, print outcomes
    policy_fuzz.py --minimize FILE       # shrink a failing document

Mutations: byte flips, deleting / duplicating / swapping / moving /
re-indenting lines, truncation, splicing lines of another policy, renamed
and unknown keys, values swapped for values of other keys (wrong types,
unknown categories, regions, recipients, parameters), a palette of hostile
values (bad durations and dates, numbers with leading zeros, lists where a
scalar is expected and vice versa, over-long text), and inserted YAML
hostile constructs: anchors and aliases ("billion laughs"), tags such as
!!python/object, complex keys, directives, flow and block nesting beyond 32
levels, huge scalars, documents of 1 MiB +- 1 byte and of 2 MiB, 100 000+
nodes, empty documents, several documents (---), CR / CRLF / NEL / U+2028
line breaks, a BOM, NUL escapes and invalid \\u escapes.

Documents are sent hex-encoded (convert_from(decode('<hex>', 'hex'), ...)),
so any content is quoted safely.  A document that is not valid UTF-8 cannot
be a text value in a UTF-8 database; when the fuzzer may create databases,
every 5th batch goes to a scratch SQL_ASCII database (created, and dropped
at the end) where such bytes do reach load_policy.  Elsewhere invalid
UTF-8 is repaired to U+FFFD before sending.

Accepted outcomes (anything else is a failure, exit status 1):
  * the document loads.  Most successful loads are rolled back (a
    sentinel exception inside the subtransaction) to keep the catalog
    small; one in ten is kept, so that reloads and replacements run too.
  * SQLSTATE GV010 whose message names the position
    "invalid policy at <line>:<col>: ..." with 1 <= line <= lines of the
    document + 1 and col >= 1.  The one GV010 without a position is the
    size check, "policy text is too large", and it is accepted only for a
    document of more than 1 MiB (and must happen for those).
  * SQLSTATE 22021 only for a document that is not valid UTF-8 in the
    SQL_ASCII database: PostgreSQL's own conversion of the argument to
    UTF-8 refuses it before the extension sees it.
Not accepted: XX000 internal errors, crashes (psql loses its connection),
54001 stack depth (nesting is bounded at 32 before anything recurses, so
this would mean the bound failed), 57014 (a document that runs for more
than --doc-timeout seconds), and every other SQLSTATE, such as 22P02 or
22008 from the catalog insert after validation accepted the document.
Also checked: every unmodified bundled policy loads, a document over 1 MiB
never loads, the catalog has no rows of policies that do not exist after a
batch, and the server answers SELECT 1 after every batch.

On failure the offending documents are written to /tmp (path printed) and
the run ends with status 1; --seed replays the same sequence of documents.
"""

import argparse
import csv
import io
import os
import random
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "policies"))
MAX_BYTES = 1024 * 1024          # YAML_MAX_BYTES in src/pg_governance.h
ASCII_DB = "policy_fuzz_sql_ascii"
PSQL = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
POS_RE = re.compile(r"^invalid policy at (\d+):(\d+): ", re.S)
TOO_LARGE = "policy text is too large"

# A small policy that exercises every section and rule kind; mutating it
# reaches the deeper checks much more often than mutating a 30 kB policy.
MINI_POLICY = """\
policy:
  name: fuzz-mini
  version: "1"
  title: Fuzz mini policy
  controller: Fuzz Ltd
  effective_date: 2024-03-22
  language: en
  seed: none.txt
  home_jurisdiction: home
categories:
  - name: fuzz_data
    description: data of the fuzzer
    description_zh: 模糊数据
    implies: [personal, account]
    source: "fuzz data"
  - name: personal.fuzz
    description: personal fuzz
    source: "personal fuzz"
sensitive:
  categories: [personal.biometric, fuzz_data]
  source: "sensitive"
jurisdictions:
  - name: home
    include: [CN]
    exclude: [HK, MO, TW, CN-HK]
    source: "home"
  - name: abroad
    include: [US, US-CA, GB-ENG]
parameters:
  - name: after_account_closed
    default: null
    description: after close
    source: "after close"
  - name: log_retention
    default: P6M
    description: logs
    source: "logs"
recipients:
  - name: 百度SDK
    class: sdk
    provider: 北京百度网讯科技有限公司
    categories: [device.identifier, personal.location]
    purposes: [third_party_offering]
    destinations: [home, US]
    source: "百度SDK"
rules:
  localization:
    - id: loc.data
      categories: [fuzz_data, personal]
      jurisdiction: home
      cross_border:
        condition: legal_basis
        legal_bases: [legal_obligation, consent]
        safeguards: [security_assessment]
      source: "stored at home"
  retention:
    - id: ret.no-cvv
      categories: [payment.security_code]
      never_store: true
      source: "no cvv"
    - id: ret.after-close
      categories: [fuzz_data]
      anchor: account_closed
      minimum: P6M
      maximum: {parameter: after_account_closed}
      action: delete
      source: "after close"
    - id: ret.logs
      categories: [log]
      anchor: created
      maximum: {parameter: log_retention}
      action: anonymize
      note: logs
      source: "logs"
  sharing:
    - id: share.sdk
      effect: allow
      recipients: [百度SDK]
      recipient_classes: [sdk]
      purposes: [third_party_offering]
      categories: [device.identifier]
      destinations: [home, abroad, JP]
      consent: required
      legal_bases: [legal_obligation]
      source: "sdk"
    - id: share.deny
      effect: deny
      recipient_classes: [third_party]
      source: "deny"
  subject_rights:
    - id: dsr.response
      requests: [access, correction, deletion, export]
      deadline: P15D
      days: working
      source: "15 days"
  breach:
    - id: breach.notify
      deadline: PT72H
      notify: [subjects, authority]
      channels: [email, sms]
      source: "breach"
  minors:
    - id: minors.consent
      age_of_consent: 14
      requires: guardian_consent
      categories: [personal.minor]
      source: "minors"
unenforceable:
  - source: "we try hard"
    reason: "effort"
"""

# Values that a key: value line may be given instead of its own.
HOSTILE_VALUES = [
    "", "~", "null", "NULL", "Null", "true", "false", "yes", "no", "on",
    "0", "007", "014", "-1", "+5", "1e3", "1.5", "999999", "1000000", "0x1F",
    ".inf", ".nan", "[]", "{}", "[a, b]", "[[a]]", "{a: 1, b: 2}", "[null]",
    "{parameter: nope}", "{parameter: after_account_closed}",
    "{parameter: log_retention}", "{parameter: [x]}", "{parameter: {a: b}}",
    "{parameter: }", "{parameter: x, other: y}", "{other: x}",
    "P", "PT", "P1", "P1Y2Y", "P1M1Y", "PT1D", "P1.5Y", "P9999999Y", "P999999Y",
    "P0D", "P-1D", "p6m", "'P6M '", "PT72H", "P1W", "P1Y6M", "P1DT", "PT0S",
    "P1Y2M3W4DT5H6M7S", "P1T", "PTT1H", "P6M6M",
    "2024-02-30", "2024-02-31", "2023-02-29", "2024-13-01", "0000-01-01",
    "9999-12-31", "2024-1-1", "'2024- 1- 1'", "+024-01-01", "-001-01-01",
    "' 2024-01-01'", "2024-00-10", "99999-01-01", "2024-04-31", "'2024-01-01\\n'",
    "XX", "UK", "EU", "cn", "Cn", "CN-", "CN-SHXX", "CN-SH", "US-CA", "ZZ", "A",
    "CN-", "-CN", "CN--SH", "GB-ENG", "AQ", "Ñ",
    "personal", "personal.", ".personal", "Personal", "personal..name",
    "nonexistent.category", "personal.nonexistent", "fuzz_data.child",
    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", "x" * 64 + ".y", "9abc",
    "mainland_china", "mainland_chin", "home", "abroad", "百度SDK", "百度SD",
    "SomeSDK", "sdk", "sdkk", "third_party_offering", "marketin", "access",
    "guardian_consent", "account_closed", "delete", "deny", "working", "zh-en",
    '"quoted"', "'single'", '"\\u00e9"', '"\\0"', '"\\x00"', '"a\\0b"',
    '"\\uD800"', '"\\U0010FFFF"', '"\\UFFFFFFFF"', '"\\xff"', '"\\e\\a\\b"',
    "|\n  block\n  text", ">-\n  folded", "|-", "&anchor x", "*alias",
    "!!str x", "!!int 5", "!!python/object/apply:os.system ['id']",
    "!custom x", "!<tag:yaml.org,2002:str> x", "? x", ": x", "- x", "x: y",
    "'it''s'", "\"unterminated", "'unterminated", "[unterminated", "{a: ",
    "@reserved", "`backtick", "%percent", "#", "a #comment", "a: b: c",
    "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001f600", "\u200b", "\ufeff",
    "\u2028", "\x85", "\t", "a\tb", "\\", "'\\'", "\"\\\"",
]

HOSTILE_LINES = [
    "evil: &a [x, y]", "evil: *a", "<<: *a", "<<: {x: 1}", "? [a, b]\n: c",
    "? complex\n: key", "!!python/object:os.system {}", "%YAML 1.1", "%TAG ! tag:x,2000:",
    "---", "...", "--- !!map", "- stray item", "stray scalar", "{flow: map}",
    "[flow, seq]", "unknown_key: 1", "naem: x", "Name: x", "name : x", "name:x",
    "'name': x", "\"name\": x", "name: x\nname: y", "source: \"dup\"", "id: dup",
    "\t- tab", "  - ", ":", "-", "? ", "&anchor", "*alias", "!tag", "|", ">",
]


# --------------------------------------------------------------- mutations

def nest(rng, depth):
    kind = rng.choice(["flowseq", "flowmap", "blockmap", "blockseq", "mixed"])
    if kind == "flowseq":
        return "[" * depth + "x" + "]" * depth
    if kind == "flowmap":
        return "{a: " * depth + "x" + "}" * depth
    if kind in ("blockmap", "blockseq"):
        depth = min(depth, 300)          # block indentation grows quadratically
    if kind == "blockmap":
        return "\n".join("  " * i + "k%d:" % i for i in range(depth)) + " x"
    if kind == "blockseq":
        return "- " * depth + "x"
    return "[" + "{a: [" * (depth // 2) + "x" + "]}" * (depth // 2) + "]"


_ASCII_TABLE = bytes(33 + i % 94 if 33 + i % 94 != 0x27 else 0x78 for i in range(256))
_UNI_POOL = ([chr(0x4e00 + 97 * i) for i in range(96)] + [chr(0x21 + i) for i in range(94)]
             + [chr(0xa1 + 37 * i) for i in range(66)])
_UNI_POOL = ["x" if c == "'" else c for c in _UNI_POOL]


def rand_text(rng, n, ascii_only=False):
    """n random characters, no quote; printable ASCII, or a mix with CJK."""
    raw = rng.randbytes(n)
    if ascii_only or rng.random() < 0.5:
        return raw.translate(_ASCII_TABLE).decode()
    return "".join(map(_UNI_POOL.__getitem__, raw))


def billion_laughs(rng):
    levels = rng.randint(3, 12)
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append("a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)))
    text = "\n".join(lines) + "\n"
    if rng.random() < 0.5:           # hide it inside a policy
        text = MINI_POLICY + text.replace("a0:", "unenforceable_x:", 1)
    return text


LAST_KIND = [None]


def whole_document(rng, corpus):
    """Documents generated from scratch (hostile shapes)."""
    base = rng.choice(corpus)
    choice = rng.randrange(24)
    LAST_KIND[0] = choice
    if choice == 0:
        return rng.choice([b"", b"\n", b"   \n\t\n", b"# only a comment\n", b"---\n",
                           b"...\n", b"---\n...\n", b"~\n", b"null\n", b"[]\n", b"{}\n",
                           b"\"just a string\"\n", b"- a\n- b\n", b"policy:\n", b"rules: {}\n",
                           b"policy: {}\nrules: {}\n", b"\xef\xbb\xbf", b"- \n", b"? \n",
                           b":\n", b"key: value\n", b"policy: ~\nrules: ~\n", b"%YAML 1.2\n"])
    if choice == 1:
        return billion_laughs(rng).encode()
    if choice == 2:
        return (MINI_POLICY + "anchored: &x {a: 1}\nother: *x\n").encode()
    if choice == 3:
        tag = rng.choice(["!!python/object/apply:os.system [\"echo pwned\"]",
                          "!!python/object:__main__.X {a: 1}", "!!binary aGVsbG8=",
                          "!!set {a, b}", "!!omap [a: 1]", "!custom {}", "!<tag:x> y",
                          "!!map {}", "!!str policy"])
        return rng.choice([tag + "\n",
                           "policy: " + tag + "\nrules: {}\n",
                           MINI_POLICY.replace("title: Fuzz mini policy", "title: " + tag)]).encode()
    if choice == 4:
        depth = rng.choice([31, 32, 33, 34, 40, 64, 200, 1000, 20000])
        n = nest(rng, depth)
        if rng.random() < 0.5:
            return n.encode() + b"\n"
        return MINI_POLICY.replace("source: \"effort\"", "source: \"effort\"").replace(
            "reason: \"effort\"", "reason: " + n.replace("\n", "\n      ")).encode()
    if choice == 5:                      # big scalar, below / around / above the limit
        size = rng.choice([MAX_BYTES - 4096, MAX_BYTES - 200, 300000, 70000, 5000])
        body = rand_text(rng, size // 3) if rng.random() < 0.5 else "x" * size
        style = rng.randrange(3)
        if style == 0:
            val = "'" + body + "'"
        elif style == 1:
            val = "|\n    " + body
        else:
            val = body.replace(": ", "  ").replace(" #", "  ")
        doc = MINI_POLICY.replace("title: Fuzz mini policy", "title: " + val)
        return doc.encode()
    if choice == 6 and rng.random() < 0.3:   # exactly the limit, one byte over, 2 MiB
        target = rng.choice([MAX_BYTES, MAX_BYTES + 1, 2 * MAX_BYTES, MAX_BYTES - 1])
        doc = base + b"\n"
        pad = b"#" + b"p" * 1000 + b"\n"
        out = bytearray(doc)
        while len(out) + len(pad) <= target:
            out += pad
        out += b"#" + b"q" * max(0, target - len(out) - 2) + b"\n"
        return bytes(out[:target]) if len(out) > target else bytes(out)
    if choice == 7:                      # more than 100 000 nodes
        n = rng.choice([99990, 100001, 150000])
        return ("[" + ",".join(["1"] * n) + "]\n").encode()
    if choice == 8:                      # many keys in one mapping (dup-key check cost)
        n = rng.choice([1000, 3000, 10000])     # quadratic: 10 000 keys 0.3 s, 50 000 6 s
        return "".join("k%d: 1\n" % i for i in range(n)).encode()
    if choice == 9:                      # many rules (rule id check cost)
        n = rng.choice([100, 1000, 5000])
        rules = "".join("    - id: r%d\n      deadline: P1D\n      notify: [subjects]\n"
                        "      source: s\n" % i for i in range(n))
        return MINI_POLICY.replace("  breach:\n", "  breach:\n" + rules).encode()
    if choice == 10:                     # several documents
        sep = rng.choice([b"\n---\n", b"\n...\n---\n", b"\n--- \n"])
        return rng.choice([base + sep + base, b"---\n" + base, base + b"\n...\n",
                           base + sep + b"x: 1\n", b"---\n---\n" + base])
    if choice == 11:                     # directives
        return rng.choice([b"%YAML 1.1\n---\n", b"%YAML 1.2\n---\n", b"%YAML 2.0\n---\n",
                           b"%TAG !e! tag:example.com,2000:\n---\n", b"%FOO bar\n---\n",
                           b"%YAML 1.1\n%YAML 1.1\n---\n"]) + base
    if choice == 12:                     # line breaks of every kind
        brk = rng.choice([b"\r\n", b"\r", "\u0085".encode(), "\u2028".encode(), "\u2029".encode()])
        return base.replace(b"\n", brk)
    if choice == 13:
        return b"\xef\xbb\xbf" + base
    if choice == 14:                     # escapes in double-quoted scalars
        esc = rng.choice(['"\\0"', '"\\x00"', '"a\\u0000b"', '"\\uD800"', '"\\uDFFF"',
                          '"\\U00110000"', '"\\UFFFFFFFF"', '"\\xZZ"', '"\\q"', '"\\N\\_\\L\\P"',
                          '"\\u"', '"\\', '"\\x0"'])
        return MINI_POLICY.replace('"fuzz data"', esc).encode()
    if choice == 15:                     # long incompressible names (btree index limit)
        n = rng.choice([2000, 3000, 9000])
        name = rand_text(rng, n, ascii_only=True).replace("#", "h").replace(":", "c")
        which = rng.randrange(4)
        if which == 0:
            return MINI_POLICY.replace("百度SDK", name).encode()
        if which == 1:
            return MINI_POLICY.replace("version: \"1\"", "version: '%s'" % name).encode()
        if which == 2:
            return MINI_POLICY.replace("safeguards: [security_assessment]",
                                       "safeguards: [a%s]" % re.sub(r"[^a-z0-9_.-]", "a", name.lower())).encode()
        return MINI_POLICY.replace("name: fuzz-mini", "name: f%s" % re.sub(r"[^a-z0-9_.-]", "a", name.lower())).encode()
    if choice == 16:                     # duplicated names / ids in lists
        dup = rng.choice([("  categories: [personal.biometric, fuzz_data]",
                           "  categories: [personal.biometric, personal.biometric]"),
                          ("  categories: [personal.biometric, fuzz_data]",
                           "  categories: [fuzz_data, fuzz_data, personal.fuzz]"),
                          ("    include: [CN]", "    include: [CN, CN, cn]"),
                          ("    exclude: [HK, MO, TW, CN-HK]", "    exclude: [HK, hk, HK]"),
                          ("implies: [personal, account]", "implies: [personal, personal]"),
                          ("      categories: [fuzz_data, personal]",
                           "      categories: [fuzz_data, fuzz_data]"),
                          ("purposes: [third_party_offering]",
                           "purposes: [third_party_offering, third_party_offering]"),
                          ("requests: [access, correction, deletion, export]",
                           "requests: [access, access]"),
                          ("destinations: [home, abroad, JP]", "destinations: [JP, JP, home, home]"),
                          ("    - id: share.deny", "    - id: share.sdk"),
                          ("  - name: abroad", "  - name: home"),
                          ("  - name: log_retention", "  - name: after_account_closed"),
                          ("  - name: personal.fuzz", "  - name: fuzz_data"),
                          ("  - name: personal.fuzz", "  - name: personal"),
                          ("  - name: personal.fuzz", "  - name: fuzz_data.child")])
        return MINI_POLICY.replace(dup[0], dup[1]).encode()
    if choice == 17:                     # the sensitive list in every shape
        val = rng.choice(["[personal.biometric, personal.biometric]", "[fuzz_data, fuzz_data]",
                          "[]", "[personal]", "[personal, personal.name]", "personal",
                          "{a: b}", "[[personal]]", "[Personal]"])
        return MINI_POLICY.replace("[personal.biometric, fuzz_data]", val).encode()
    if choice == 18:                     # minors age in every shape
        val = rng.choice(["0", "00", "014", "0014", "99999", "999999", "1000000", "-1",
                          "14.0", "1e2", "'14'", "\"14\"", "0x0e", "٣", "１４", "14 ", "+14"])
        return MINI_POLICY.replace("age_of_consent: 14", "age_of_consent: " + val).encode()
    if choice == 19:                     # dates in every shape
        val = rng.choice(["2024-02-30", "2024-02-31", "2023-02-29", "2024-04-31",
                          "0000-01-01", "0001-01-01", "9999-12-31", "+024-01-01",
                          "-001-01-01", "'2024- 1- 1'", "' 2024-1-01'", "2024-1-01x",
                          "'2024-01-1 '", "1999-12-31", "2024-06-31"])
        return MINI_POLICY.replace("effective_date: 2024-03-22", "effective_date: " + val).encode()
    if choice == 20:                     # durations in every shape
        val = rng.choice(["P", "PT", "P1DT", "P0D", "P999999Y", "P1000000Y", "P1W1D",
                          "P1Y1Y", "PT1H1H", "P1D1M", "P000001D", "P1H", "PT1D", "p1d",
                          "P1Y2M3W4DT5H6M7S", "P1,5D", "P1.5D", "P 1D", "'P1D '"])
        key = rng.choice(["minimum: P6M", "default: P6M", "deadline: P15D", "deadline: PT72H"])
        return MINI_POLICY.replace(key, key.split(":")[0] + ": " + val).encode()
    if choice == 21:                     # unknown categories / regions / recipients
        old, new = rng.choice([("[device.identifier]", "[device.identifiers]"),
                               ("[CN]", "[XX]"), ("[CN]", "[CHN]"), ("[CN]", "[C]"),
                               ("[home, US]", "[home, usa]"), ("[home, US]", "[mars]"),
                               ("recipients: [百度SDK]", "recipients: [谷歌SDK]"),
                               ("class: sdk", "class: alien"), ("jurisdiction: home", "jurisdiction: nowhere"),
                               ("home_jurisdiction: home", "home_jurisdiction: HK"),
                               ("home_jurisdiction: home", "home_jurisdiction: hk"),
                               ("[personal.minor]", "[personal.minors]"),
                               ("[log]", "[logs]"), ("implies: [personal, account]", "implies: [nothing]")])
        return MINI_POLICY.replace(old, new).encode()
    if choice == 22:                     # wrong types at the top
        return rng.choice([b"policy: [a]\nrules: {}\n", b"policy: x\nrules: {}\n",
                           b"policy: {name: a, version: '1', title: t, controller: c}\nrules: []\n",
                           b"policy: {name: a, version: '1', title: t, controller: c}\nrules: {}\n",
                           b"policy: {name: a, version: '1', title: t, controller: c}\nrules: {retention: {}}\n",
                           b"policy: {name: a, version: '1', title: t, controller: c}\nrules: {retention: [[]]}\n",
                           b"policy: {name: a, version: 1, title: t, controller: c}\nrules: {}\ncategories: {}\n",
                           b"policy: {name: A, version: '1', title: t, controller: c}\nrules: {}\n",
                           b"policy: {name: '', version: '1', title: t, controller: c}\nrules: {}\n"])
    # many documents' worth of lines from every policy, shuffled
    lines = []
    for d in rng.sample(corpus, min(2, len(corpus))):
        lines += d.splitlines(True)
    rng.shuffle(lines)
    return b"".join(lines[:rng.randint(1, 200)])


KV_RE = re.compile(rb"^(\s*(?:- )?)([^\s:#][^:#]*?):( +)(\S.*)$")
KEY_RE = re.compile(rb"^(\s*(?:- )?)([^\s:#][^:#]*?):(\s|$)")
ITEM_RE = re.compile(rb"^(\s*- )(\S.*)$")


def all_values(corpus_lines):
    vals = []
    for ln in corpus_lines:
        m = KV_RE.match(ln.rstrip(b"\r\n"))
        if m:
            vals.append(m.group(4))
    return vals


def mutate_once(rng, doc, ctx):
    """One random mutation of doc (bytes)."""
    lines = doc.splitlines(True)
    op = rng.randrange(17)
    if not lines:
        op = 16
    if op == 0:                          # byte flips
        b = bytearray(doc)
        for _ in range(rng.randint(1, 8)):
            if not b:
                break
            i = rng.randrange(len(b))
            if rng.random() < 0.5:
                b[i] ^= 1 << rng.randrange(8)
            else:
                b[i] = rng.choice([0x00, 0x0a, 0x0d, 0x09, 0x20, 0x22, 0x27, 0x3a, 0x2d,
                                   0x5b, 0x5d, 0x7b, 0x7d, 0x23, 0x26, 0x2a, 0x21, 0x7c,
                                   0x3e, 0x3f, 0x25, 0x40, 0x60, 0x5c, 0x80, 0xbf, 0xc0,
                                   0xc3, 0xe4, 0xef, 0xf0, 0xf4, 0xf8, 0xfe, 0xff,
                                   rng.randrange(256)])
        return bytes(b)
    if op == 1:                          # delete a block of lines
        i = rng.randrange(len(lines))
        n = rng.choice([1, 1, 1, 2, 3, 10])
        del lines[i:i + n]
    elif op == 2:                        # duplicate a block (duplicate keys)
        i = rng.randrange(len(lines))
        n = rng.choice([1, 1, 2, 5])
        lines[i:i] = lines[i:i + n]
    elif op == 3:                        # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 4:                        # move a block
        i = rng.randrange(len(lines))
        blk = lines[i:i + rng.randint(1, 8)]
        del lines[i:i + len(blk)]
        j = rng.randrange(len(lines) + 1)
        lines[j:j] = blk
    elif op == 5:                        # re-indent
        i = rng.randrange(len(lines))
        ln = lines[i]
        how = rng.randrange(4)
        if how == 0:
            lines[i] = b" " + ln
        elif how == 1:
            lines[i] = ln[1:] if ln.startswith(b" ") else ln
        elif how == 2:
            lines[i] = b"\t" + ln.lstrip(b" ")
        else:
            lines[i] = b"  " + ln
    elif op == 6:                        # truncate (maybe inside a UTF-8 sequence)
        return doc[:rng.randrange(len(doc) + 1)]
    elif op == 7:                        # splice lines of another document
        other = rng.choice(ctx["corpus"]).splitlines(True)
        i = rng.randrange(len(other))
        blk = other[i:i + rng.randint(1, 30)]
        j = rng.randrange(len(lines) + 1)
        if rng.random() < 0.5:
            lines[j:j + len(blk)] = blk
        else:
            lines[j:j] = blk
    elif op in (8, 9, 10):               # replace a value (wrong types, bad values)
        cand = [k for k, ln in enumerate(lines) if KV_RE.match(ln.rstrip(b"\r\n"))
                or ITEM_RE.match(ln.rstrip(b"\r\n"))]
        if not cand:
            return doc
        k = rng.choice(cand)
        ln = lines[k].rstrip(b"\r\n")
        m = KV_RE.match(ln)
        if m:
            prefix = m.group(1) + m.group(2) + b":" + m.group(3)
        else:
            m = ITEM_RE.match(ln)
            prefix = m.group(1)
        if op == 10:
            new = rng.choice(ctx["values"])
        else:
            v = rng.choice(HOSTILE_VALUES)
            indent = b" " * (len(prefix) + 2)
            new = v.encode().replace(b"\n", b"\n" + indent)
        lines[k] = prefix + new + b"\n"
    elif op == 11:                       # rename a key (unknown key / typo / another key)
        cand = [k for k, ln in enumerate(lines) if KEY_RE.match(ln)]
        if not cand:
            return doc
        k = rng.choice(cand)
        m = KEY_RE.match(lines[k])
        key = m.group(2)
        how = rng.randrange(6)
        if how == 0 and len(key) > 1:
            i = rng.randrange(len(key))
            new = key[:i] + key[i + 1:]
        elif how == 1:
            new = key + key[-1:]
        elif how == 2:
            new = key.upper()
        elif how == 3:
            new = rng.choice(ctx["keys"])
        elif how == 4:
            new = rng.choice([b"<<", b"?", b"'" + key + b"'", b"\"" + key + b"\"", key + b" ",
                              "名前".encode(), b"", b"-", b"~", b"null", b"1", b"true"])
        else:
            new = b"unknown_" + key
        lines[k] = m.group(1) + new + lines[k][m.end(2):]
    elif op == 12:                       # insert a hostile / unknown line
        i = rng.randrange(len(lines) + 1)
        ref = lines[min(i, len(lines) - 1)]
        indent = ref[:len(ref) - len(ref.lstrip(b" "))]
        h = rng.choice(HOSTILE_LINES).encode()
        lines[i:i] = [indent + h.replace(b"\n", b"\n" + indent) + b"\n"]
    elif op == 13:                       # nesting beyond the limit as a value
        cand = [k for k, ln in enumerate(lines) if KV_RE.match(ln.rstrip(b"\r\n"))]
        if not cand:
            return doc
        k = rng.choice(cand)
        m = KV_RE.match(lines[k].rstrip(b"\r\n"))
        depth = rng.choice([30, 31, 32, 33, 40, 100])
        n = rng.choice(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth])
        lines[k] = m.group(1) + m.group(2) + b": " + n.encode() + b"\n"
    elif op == 14:                       # huge scalar value
        cand = [k for k, ln in enumerate(lines) if KV_RE.match(ln.rstrip(b"\r\n"))]
        if not cand:
            return doc
        k = rng.choice(cand)
        m = KV_RE.match(lines[k].rstrip(b"\r\n"))
        size = rng.choice([300, 300, 3000, 3000, 30000])
        val = rand_text(rng, size, ascii_only=True).replace("'", "_")
        lines[k] = m.group(1) + m.group(2) + b": '" + val.encode() + b"'\n"
    elif op == 15:                       # anchor + alias on real nodes
        cand = [k for k, ln in enumerate(lines) if KV_RE.match(ln.rstrip(b"\r\n"))]
        if len(cand) < 2:
            return doc
        a, b_ = sorted(rng.sample(cand, 2))
        ma = KV_RE.match(lines[a].rstrip(b"\r\n"))
        mb = KV_RE.match(lines[b_].rstrip(b"\r\n"))
        lines[a] = ma.group(1) + ma.group(2) + b": &x " + ma.group(4) + b"\n"
        lines[b_] = mb.group(1) + mb.group(2) + b": *x\n"
    else:                                # replace the whole thing
        return whole_document(rng, ctx["corpus"])
    return b"".join(lines)


def make_document(rng, ctx):
    """(bytes, description) of the next document."""
    r = rng.random()
    if r < 0.01:
        i = rng.randrange(len(ctx["corpus"]))
        return ctx["corpus"][i], "unmodified %s" % ctx["names"][i]
    if r < 0.12:
        doc = whole_document(rng, ctx["corpus"])
        return doc, "generated#%d" % LAST_KIND[0]
    if r < 0.50:
        doc = MINI_POLICY.encode()
        src = "mini"
    else:
        i = rng.randrange(len(ctx["corpus"]))
        doc = ctx["corpus"][i]
        src = ctx["names"][i]
    n = rng.choice([1, 1, 1, 2, 2, 3, 4])
    for _ in range(n):
        doc = mutate_once(rng, doc, ctx)
        if len(doc) > 3 * MAX_BYTES:
            doc = doc[:3 * MAX_BYTES]
    return doc, "%s with %d mutation(s)" % (src, n)


# --------------------------------------------------------------- running

def utf8_valid(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def line_count(b):
    """Lines as libyaml counts them (\\r\\n, \\r, \\n, NEL, LS, PS)."""
    t = b.decode("utf-8", "replace").replace("\r\n", "\n")
    return 1 + sum(t.count(c) for c in "\n\r\u0085\u2028\u2029")


def psql(args, script=None, timeout=None, env=None):
    return subprocess.run(PSQL + args, input=script, capture_output=True,
                          timeout=timeout, env=env)


class Batch:
    def __init__(self, docs, ascii_db):
        self.docs = docs                # list of (index, bytes, description, keep)
        self.ascii_db = ascii_db
        self.tag = "%016x" % random.getrandbits(64)

    def script(self):
        enc = "SQL_ASCII" if self.ascii_db else "UTF8"
        t = self.tag
        out = [
            "\\pset format unaligned\n\\pset tuples_only on\n",
            "SET client_min_messages = warning;\n",
            "CREATE EXTENSION IF NOT EXISTS pg_governance;\n",
            "CREATE TEMP TABLE fuzz_result (doc int PRIMARY KEY, outcome text, "
            "sqlstate text, message text, ms float8);\n",
            "SET statement_timeout = '%ds';\n" % ARGS.doc_timeout,
        ]
        for idx, doc, _desc, keep in self.docs:
            out.append("\\echo @@%s doc %d\n" % (t, idx))
            out.append(
                "DO $fz$\nDECLARE d text; n text; t0 timestamptz := clock_timestamp();\n"
                "BEGIN\n"
                "  BEGIN\n"
                "    d := convert_from(decode('%s', 'hex'), '%s');\n"
                "  EXCEPTION WHEN OTHERS THEN\n"
                "    INSERT INTO fuzz_result VALUES (%d, 'unsendable', SQLSTATE, SQLERRM, 0);\n"
                "    RETURN;\n"
                "  END;\n"
                "  BEGIN\n"
                "    n := governance.load_policy(d);\n"
                "    %s\n"
                "    INSERT INTO fuzz_result VALUES (%d, 'loaded', NULL, n,\n"
                "      extract(epoch FROM clock_timestamp() - t0) * 1000);\n"
                "  EXCEPTION\n"
                "    WHEN SQLSTATE 'ZZ999' THEN\n"
                "      INSERT INTO fuzz_result VALUES (%d, 'loaded', NULL, SQLERRM,\n"
                "        extract(epoch FROM clock_timestamp() - t0) * 1000);\n"
                "    WHEN query_canceled THEN\n"
                "      INSERT INTO fuzz_result VALUES (%d, 'error', SQLSTATE, SQLERRM,\n"
                "        extract(epoch FROM clock_timestamp() - t0) * 1000);\n"
                "    WHEN OTHERS THEN\n"
                "      INSERT INTO fuzz_result VALUES (%d, 'error', SQLSTATE, SQLERRM,\n"
                "        extract(epoch FROM clock_timestamp() - t0) * 1000);\n"
                "  END;\n"
                "END\n$fz$;\n" % (
                    doc.hex(), enc, idx,
                    "" if keep else "RAISE EXCEPTION USING ERRCODE = 'ZZ999', MESSAGE = coalesce(n, '');",
                    idx, idx, idx, idx))
        out.append("RESET statement_timeout;\n")
        out.append("\\echo @@%s counts\n" % t)
        out.append("SELECT outcome || ' ' || coalesce(sqlstate, '-') || ' ' || count(*) "
                   "FROM fuzz_result GROUP BY outcome, sqlstate ORDER BY 1;\n")
        out.append("\\echo @@%s orphans\n" % t)
        out.append(
            "SELECT (SELECT count(*) FROM governance.policy_category x WHERE NOT EXISTS "
            "(SELECT 1 FROM governance.policy p WHERE p.name = x.policy))"
            " + (SELECT count(*) FROM governance.jurisdiction x WHERE NOT EXISTS "
            "(SELECT 1 FROM governance.policy p WHERE p.name = x.policy))"
            " + (SELECT count(*) FROM governance.parameter_def x WHERE NOT EXISTS "
            "(SELECT 1 FROM governance.policy p WHERE p.name = x.policy))"
            " + (SELECT count(*) FROM governance.recipient x WHERE NOT EXISTS "
            "(SELECT 1 FROM governance.policy p WHERE p.name = x.policy))"
            " + (SELECT count(*) FROM governance.rule x WHERE NOT EXISTS "
            "(SELECT 1 FROM governance.policy p WHERE p.name = x.policy))"
            " + (SELECT count(*) FROM governance.unenforceable x WHERE NOT EXISTS "
            "(SELECT 1 FROM governance.policy p WHERE p.name = x.policy));\n")
        out.append("\\echo @@%s rows\n" % t)
        out.append("COPY (SELECT doc, outcome, coalesce(sqlstate, ''), round(ms::numeric, 2), "
                   "message FROM fuzz_result ORDER BY doc) TO STDOUT WITH (FORMAT csv);\n")
        return "".join(out).encode()

    def run(self, timeout):
        env = dict(os.environ)
        if self.ascii_db:
            env["PGDATABASE"] = ASCII_DB
        t0 = time.monotonic()
        try:
            p = psql([], self.script(), timeout=timeout, env=env)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, e.stdout or b"", (e.stderr or b"") + b"\n(psql killed: batch timed out)"
        self.elapsed = time.monotonic() - t0
        self.rc, self.stderr = rc, err.decode("utf-8", "replace")
        text = out.decode("utf-8", "replace")
        mark = "@@%s " % self.tag
        self.last_started = None
        self.counts, self.orphans, self.rows = [], None, []
        section, buf = None, {}
        for line in io.StringIO(text):
            if line.startswith(mark):
                word = line[len(mark):].split()
                if word[0] == "doc":
                    self.last_started = int(word[1])
                    continue
                section = word[0]
                buf[section] = []
                continue
            if section:
                buf[section].append(line)
        self.counts = [l.strip() for l in buf.get("counts", []) if l.strip()]
        o = "".join(buf.get("orphans", [])).strip()
        self.orphans = int(o) if o.isdigit() else None
        for row in csv.reader(io.StringIO("".join(buf.get("rows", [])))):
            if row:
                self.rows.append((int(row[0]), row[1], row[2], float(row[3]), row[4]))


def judge(doc, ascii_db, outcome, sqlstate, message):
    """None if the outcome is acceptable, else why not."""
    big = len(doc) > MAX_BYTES
    if outcome == "unsendable":
        return None                      # the fuzzer could not build the argument
    if outcome == "loaded":
        return "a document over 1 MiB was loaded" if big else None
    if sqlstate == "GV010":
        if message.startswith(TOO_LARGE):
            return None if big else "size error for a document of at most 1 MiB"
        if big:
            return "a document over 1 MiB was not refused by the size check"
        m = POS_RE.match(message)
        if not m:
            return "GV010 without a line:column position"
        line, col = int(m.group(1)), int(m.group(2))
        if line < 1 or col < 1 or line > line_count(doc) + 1:
            return "GV010 position %d:%d outside the document (%d lines)" % (line, col, line_count(doc))
        return None
    if sqlstate == "22021" and ascii_db and not utf8_valid(doc) and \
            message.startswith('invalid byte sequence for encoding "UTF8"'):
        return None
    if sqlstate in ARGS.allow:
        return None
    return "unexpected SQLSTATE %s" % sqlstate


def save(doc, idx, why):
    path = "/tmp/policy_fuzz-%s-doc%d.yaml" % (ARGS.seed, idx)
    with open(path, "wb") as f:
        f.write(doc)
    return path


def server_up(env=None):
    for _ in range(30):
        try:
            p = psql(["-A", "-t", "-c", "SELECT 1"], timeout=20, env=env)
            if p.returncode == 0 and p.stdout.strip() == b"1":
                return True
        except subprocess.TimeoutExpired:
            pass
        time.sleep(1)
    return False


def setup_ascii_db():
    """Create the scratch SQL_ASCII database; False if not allowed."""
    q = ("SELECT count(*) FROM pg_database WHERE datname = '%s'" % ASCII_DB)
    p = psql(["-A", "-t", "-c", q])
    if p.returncode != 0:
        return False
    if p.stdout.strip() == b"0":
        p = psql(["-c", "CREATE DATABASE %s ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                  "TEMPLATE template0" % ASCII_DB])
        if p.returncode != 0:
            print("fuzz: cannot create a SQL_ASCII database (%s); invalid UTF-8 is repaired instead"
                  % p.stderr.decode(errors="replace").strip(), flush=True)
            return False
    return True


def drop_ascii_db():
    psql(["-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % ASCII_DB])


def load_corpus():
    names, corpus = [], []
    for fn in sorted(os.listdir(POLICY_DIR)):
        if fn.endswith(".yaml"):
            with open(os.path.join(POLICY_DIR, fn), "rb") as f:
                corpus.append(f.read())
            names.append(fn)
    if not corpus:
        sys.exit("fuzz: no policies in %s" % POLICY_DIR)
    lines = [ln for d in corpus + [MINI_POLICY.encode()] for ln in d.splitlines()]
    keys = sorted({m.group(2) for ln in lines for m in [KEY_RE.match(ln)] if m})
    return {"corpus": corpus, "names": names, "values": all_values(lines) + [b""], "keys": keys}


def run_docs(docs, ascii_db, timeout):
    """Run one batch; returns (batch, list of failures (idx, why, sqlstate, message))."""
    b = Batch(docs, ascii_db)
    b.run(timeout)
    failures = []
    by_idx = {d[0]: d for d in docs}
    seen = {r[0] for r in b.rows}
    if b.rc != 0:
        culprit = b.last_started
        if culprit is not None and culprit not in seen:
            failures.append((culprit, "psql exited %d while loading this document (crash or hang?)"
                             % b.rc, "", b.stderr.strip()[-2000:]))
        else:
            failures.append((docs[0][0], "psql exited %d" % b.rc, "", b.stderr.strip()[-2000:]))
        return b, failures
    for idx, outcome, sqlstate, ms, message in b.rows:
        why = judge(by_idx[idx][1], ascii_db, outcome, sqlstate, message)
        if why is None and by_idx[idx][2].startswith("unmodified") and \
                by_idx[idx][2] != "unmodified taxonomy.yaml" and outcome != "loaded":
            why = "a bundled policy, unmodified, did not load"
        if why:
            failures.append((idx, why, sqlstate, message))
    missing = set(by_idx) - seen
    if missing:
        failures.append((min(missing), "%d document(s) without a result" % len(missing), "", ""))
    if b.orphans != 0:
        failures.append((docs[-1][0], "catalog rows of policies that do not exist: %s" % b.orphans, "", ""))
    return b, failures


def report_failures(failures, docs_by_idx, saved):
    more = 0
    for idx, why, sqlstate, message in failures:
        doc = docs_by_idx[idx][1]
        sig = (why, sqlstate, re.sub(r'"[^"]*"|\d+', "_", message)[:200])
        if sig in saved:
            more += 1
            continue
        path = save(doc, idx, why)
        saved[sig] = path
        print("fuzz: FAIL doc %d (%s, %d bytes): %s%s%s\n      document saved to %s"
              % (idx, docs_by_idx[idx][2], len(doc), why,
                 (" [%s]" % sqlstate) if sqlstate else "",
                 (": " + message[:500]) if message else "", path), flush=True)
    if more:
        print("fuzz: FAIL %d more document(s) failing like one already reported" % more, flush=True)


def fuzz():
    t_start = time.monotonic()
    deadline = t_start + ARGS.seconds
    rng = random.Random(ARGS.seed)
    random.seed(ARGS.seed ^ 0x5eed)
    ctx = load_corpus()
    print("fuzz: seed %d, %d seconds, corpus %s" % (ARGS.seed, ARGS.seconds, " ".join(ctx["names"])),
          flush=True)
    if not server_up():
        print("fuzz: the server does not answer SELECT 1", flush=True)
        return 1
    have_ascii = setup_ascii_db()
    totals = {"docs": 0, "loaded": 0, "gv010": 0, "utf8": 0, "unsendable": 0, "unexpected": 0}
    saved = {}
    profile = {}
    sent_bytes = 0
    batch_time = 0.0
    slowest = (0.0, None)
    per_doc = 0.02                      # seconds of psql per document, refined as batches run
    done_docs = 0
    counter = {"idx": 0, "batches": 0}
    status = 0

    def generate(size):
        """The next batch: (documents, SQL_ASCII?).  Every 5th goes to SQL_ASCII."""
        ascii_db = have_ascii and counter["batches"] % 5 == 4
        counter["batches"] += 1
        docs = []
        for _ in range(size):
            doc, desc = make_document(rng, ctx)
            doc = doc.replace(b"\x00", b"")[:3 * MAX_BYTES]    # text cannot hold NUL
            if not ascii_db and not utf8_valid(doc):
                doc = doc.decode("utf-8", "replace").encode("utf-8")
                desc += ", repaired to UTF-8"
            docs.append((counter["idx"], doc, desc, rng.random() < 0.1))
            counter["idx"] += 1
        return docs, ascii_db

    def next_size(busy_until):
        left = deadline - max(time.monotonic(), busy_until)
        return min(ARGS.batch, int(left / per_doc * 0.8)) if left > 1 else 0

    try:
        size = next_size(0)
        nxt = generate(size) if size else None
        while nxt:
            docs, ascii_db = nxt
            result = {}
            started = time.monotonic()
            worker = threading.Thread(target=lambda: result.update(r=run_docs(
                docs, ascii_db, timeout=max(deadline - started, 0) + 60)))
            worker.start()
            # generate the following batch while psql works on this one
            size = next_size(started + per_doc * len(docs))
            nxt = generate(size) if size else None
            worker.join()
            b, failures = result["r"]
            nbatch = counter["batches"] - (1 if nxt else 0)
            batch_time += b.elapsed
            sent_bytes += sum(len(d[1]) for d in docs)
            done_docs += len(docs)
            per_doc = max(0.001, batch_time / done_docs)
            by_idx = {d[0]: d for d in docs}
            for r in b.rows:
                totals["docs"] += 1
                if r[1] == "loaded":
                    totals["loaded"] += 1
                elif r[1] == "unsendable":
                    totals["unsendable"] += 1
                elif r[2] == "GV010":
                    totals["gv010"] += 1
                elif r[2] == "22021":
                    totals["utf8"] += 1
                kind = by_idx[r[0]][2].split(" with ")[0].split(",")[0]
                prof = profile.setdefault(kind, [0, 0.0, 0])
                prof[0] += 1
                prof[1] += r[3]
                prof[2] += len(by_idx[r[0]][1])
                if r[3] > slowest[0]:
                    slowest = (r[3], r[0], by_idx[r[0]])
            if ARGS.verbose:
                print("fuzz: batch %d (%s, %d docs, %.1fs): %s" % (
                    nbatch, "SQL_ASCII" if ascii_db else "main", len(docs), b.elapsed,
                    ", ".join(b.counts)), flush=True)
            if failures:
                totals["unexpected"] += len(failures)
                report_failures(failures, by_idx, saved)
                status = 1
            if not server_up():
                print("fuzz: FAIL the server does not answer SELECT 1 after batch %d" % nbatch,
                      flush=True)
                status = 1
                break
            if status and not ARGS.keep_going:
                break
    finally:
        if have_ascii and ARGS.drop:
            drop_ascii_db()
    elapsed = time.monotonic() - t_start
    if ARGS.verbose:
        total_ms = sum(p[1] for p in profile.values())
        print("fuzz: time in psql %.1fs, in load_policy %.1fs, %.1f MB sent"
              % (batch_time, total_ms / 1000, sent_bytes / 1e6))
        for kind, (n, ms, nb) in sorted(profile.items(), key=lambda kv: -kv[1][1]):
            print("fuzz:   %-40s %6d docs %9.0f ms %8.1f MB" % (kind, n, ms, nb / 1e6))
    if slowest[1] is not None:
        ms, sidx, d = slowest
        note = ""
        if ms > ARGS.slow_ms:
            note = ", saved to " + save(d[1], sidx, "slow")
        print("fuzz: slowest document %d (%s, %d bytes): %.0f ms%s"
              % (sidx, d[2], len(d[1]), ms, note), flush=True)
    if totals["unsendable"]:
        print("fuzz: %d document(s) could not be sent (conversion to the database encoding)"
              % totals["unsendable"], flush=True)
    extra = (", %d refused by PostgreSQL as invalid UTF-8 (22021)" % totals["utf8"]) if have_ascii else ""
    print("fuzz: %d documents, %d rejected (GV010), %d loaded%s, %d unexpected, seed %d, "
          "%.1fs, %.0f docs/s" % (totals["docs"], totals["gv010"], totals["loaded"], extra,
                                  totals["unexpected"], ARGS.seed, elapsed,
                                  totals["docs"] / elapsed if elapsed else 0), flush=True)
    return status


def replay(paths):
    docs = []
    for i, p in enumerate(paths):
        with open(p, "rb") as f:
            docs.append((i, f.read(), p, False))
    have_ascii = any(not utf8_valid(d[1]) for d in docs) and setup_ascii_db()
    b, failures = run_docs(docs, have_ascii, timeout=600)
    for idx, outcome, sqlstate, ms, message in b.rows:
        print("%s: %s %s (%.1f ms) %s" % (docs[idx][2], outcome, sqlstate or "", ms, message[:300]))
    for idx, why, sqlstate, message in failures:
        print("%s: FAIL %s %s %s" % (docs[idx][2], why, sqlstate, message[:300]))
    if have_ascii and ARGS.drop:
        drop_ascii_db()
    return 1 if failures else 0


def minimize(path):
    """Greedy shrinking (lines, then bytes for small documents) that keeps
    the first failure's reason and SQLSTATE; candidates of one round run in
    one batch."""
    with open(path, "rb") as f:
        doc = f.read()
    ascii_db = not utf8_valid(doc) and setup_ascii_db()
    _b, base = run_docs([(0, doc, "orig", False)], ascii_db, 600)
    if not base:
        print("minimize: the document does not fail")
        return 1
    want = (base[0][1], base[0][2])
    print("minimize: keeping %s [%s]" % want)
    for unit in ("lines", "bytes"):
        if unit == "bytes" and len(doc) > 4096:
            break
        parts = doc.splitlines(True) if unit == "lines" else [bytes([c]) for c in doc]
        chunk = max(1, len(parts) // 2)
        while chunk >= 1 and len(parts) > 1:
            cands = [parts[:s] + parts[s + chunk:] for s in range(0, len(parts), chunk)]
            docs = [(i, b"".join(c), "candidate", False) for i, c in enumerate(cands)]
            b, fails = run_docs(docs, ascii_db, 600)
            good = [] if b.rc != 0 else sorted(i for i, why, st, _m in fails if (why, st) == want)
            if good:
                parts = cands[good[0]]
                chunk = min(chunk, max(1, len(parts) // 2))
            else:
                chunk //= 2
        doc = b"".join(parts)
    out = path + ".min"
    with open(out, "wb") as f:
        f.write(doc)
    print("minimize: %d bytes, written to %s" % (len(doc), out))
    print(doc.decode("utf-8", "replace"))
    return 0


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--batch", type=int, default=200, help="documents per psql call")
    ap.add_argument("--doc-timeout", type=int, default=20,
                    help="statement_timeout of one load, seconds (exceeding it is a failure)")
    ap.add_argument("--slow-ms", type=float, default=2000,
                    help="save the slowest document if it took longer (a note, not a failure)")
    ap.add_argument("--allow", action="append", default=[], metavar="SQLSTATE",
                    help="also accept this SQLSTATE (while a known bug is open)")
    ap.add_argument("--keep-going", action="store_true", help="do not stop at the first failing batch")
    ap.add_argument("--no-drop", dest="drop", action="store_false",
                    help="keep the scratch SQL_ASCII database")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--replay", nargs="+", metavar="FILE")
    ap.add_argument("--minimize", metavar="FILE")
    ARGS = ap.parse_args()
    if ARGS.seed is None:
        ARGS.seed = random.SystemRandom().randrange(2 ** 31)
    if ARGS.replay:
        return replay(ARGS.replay)
    if ARGS.minimize:
        return minimize(ARGS.minimize)
    return fuzz()


if __name__ == "__main__":
    sys.exit(main())
