#!/usr/bin/env python3
"""label_fuzz.py - bounded-time fuzzer for the "governance" security label provider.

Generates valid labels for every kind of object and mutates them, then sets
them with SECURITY LABEL FOR governance ON COLUMN / TABLE / SCHEMA /
DATABASE / TABLESPACE (and on objects that take no governance label: views,
sequences, materialized views, functions, domains, roles, another database)
through psql, in batches: one psql process per batch, one SELECT per label
calling a plpgsql helper that runs the statement in a subtransaction and
returns the outcome as one line of JSON.  Every attempt is rolled back (a
sentinel exception), so the fixture is the same for every label and the
expected outcome depends on the label and its target only.

Connection: psql with the usual environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); the fuzzer needs a superuser.  It creates a scratch database
"label_fuzz" (owned by role label_fuzz_admin, a member of governance_admin),
roles label_fuzz_admin and label_fuzz_user and, if allowed, an in-place
tablespace label_fuzz_ts; all are dropped at the end (--no-drop keeps
them).  Standard library only.

    label_fuzz.py [--seconds 30] [--seed S] [--batch 400] [--keep-going] [-v]
    label_fuzz.py --try LABEL [--target KEY]...   # one label, print outcomes
    label_fuzz.py --try-hex HEX [--target KEY]... # the same, label as UTF-8 hex
    label_fuzz.py --minimize LABEL --target KEY   # shrink a failing label
    label_fuzz.py --list-targets

Labels are sent hex-encoded (convert_from(decode(hex), 'UTF8')) and quoted
for the statement by the helper, with format('%L') (proper literal
escaping), with a dollar quote whose tag the label does not contain, or
passed to governance.tag() (columns).  Some attempts run as
label_fuzz_admin (governance_admin, owner of the objects, not a superuser)
and some as label_fuzz_user (owner of one table, not governance_admin).

Generation: valid labels for the target (registered categories from
governance.categories, the anchor events of docs/policy-format.md, loaded
policies from governance.policies, ISO 3166 regions in any case, with
random spaces, tabs and newlines where the grammar allows them), valid
labels of another kind of object, labels from scratch, and 1 to 4 of these
mutations: byte flips (repaired to valid UTF-8, NUL removed), truncation,
deleted ranges, duplicated items, empty items, inserted whitespace of every
kind (CR, VT, FF, NEL, NBSP, U+2028, U+3000, ZWSP, BOM), very long names and
values (segment / category / region length limits +-1, 100 kB keys), non-ASCII
(homoglyphs, fullwidth ";,=", dotless i, long s, Kelvin sign), odd valid
UTF-8 (controls, U+FFFE, U+FFFF, U+10FFFF, RLO, combining marks), ";" "," "="
storms, case changes, unknown keys, unknown categories / events / regions /
policies, items of another kind of object, swapped separators, quotes,
backslashes, printf specifiers, a category repeated thousands of times.

Oracle.  Python re-implements the grammar (docs/sql-reference.md "Labels and
binding"; whitespace: items are trimmed of space, tab and newline, keys and
values of space and tab around "=", categories of spaces around ",") with its
own ISO 3166-1 list, the categories of governance.categories, the events of
the docs and the policies of governance.policies, plus the column type
rules (anchor: date, timestamp, timestamptz; region: text, varchar, char,
governance.region; subject: a built-in base type, a rule of the guard that
the grammar's documentation does not state).
Expected outcome: accepted, GV011, or 42501 (label_fuzz_user, any label).
Objects that take no governance label and other databases: always GV011.
Accepted outcomes (anything else is a failure, exit status 1):
  * accepted, and the oracle accepts too, and
      - pg_seclabel / pg_shseclabel holds exactly the label,
      - setting the same label again is accepted (it re-parses),
      - governance.label_history got exactly one row for the change,
      - column: governance.tagged_columns reads it without error and shows
        the categories and the roles (subject, anchor=<event>, region) the
        grammar gives,
      - table / schema / database: governance.bound_policy() of a table
        that the label binds returns the label's policy, and
        governance.drop_policy() of that policy is refused (2BP01: still
        bound) unless the fixture binds it elsewhere too,
      - database: governance.database_label holds the label, and
        governance.set_database_region('JP') then bind_database(<policy>)
        work and leave a label with that policy and region JP;
  * GV011 where the oracle rejects the label;
  * 42501 where it expects 42501.
Not accepted: GV011 for a label the oracle accepts, acceptance of a label it
rejects, any other SQLSTATE (XX000, 22P02, 54001, 57014 for a label that
takes more than --label-timeout seconds ...), a server crash (psql loses
the connection), an error when a statement commits.  After each batch the
fuzzer checks that the server answers and that nothing leaked out of the
rolled-back attempts (label and label_history counts unchanged).

Failures print the seed, the target, the label (Python repr) and the
server's answer; --seed replays the same sequence, --try one label.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time

DB = "label_fuzz"
ADMIN = "label_fuzz_admin"
USER = "label_fuzz_user"
TABLESPACE = "label_fuzz_ts"
PSQL = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
MARK = "@@label_fuzz "

# ISO 3166-1 alpha-2, the 249 officially assigned codes (independent of src/types/iso3166.c)
ISO3166 = set("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW""".split())
assert len(ISO3166) == 249

# docs/policy-format.md, "anchor events"
EVENTS = ["created", "account_closed", "trial_ended", "purpose_fulfilled",
          "service_terminated", "left_organization", "transaction_completed"]

ANCHOR_TYPES = {"date", "timestamp without time zone", "timestamp with time zone"}
REGION_TYPES = {"text", "character varying", "character", "governance.region"}

ITEM_WS = " \t\n"            # around an item
EQ_WS = " \t"                # around "="
CAT_WS = " "                 # around "," in a category list

KEYS = {
    "column": ("category", "subject", "anchor", "region"),
    "table": ("policy",),
    "schema": ("policy",),
    "database": ("policy", "region"),
    "tablespace": ("region",),
}
VALUED = {"column": {"category", "anchor"}, "database": {"policy", "region"},
          "table": {"policy"}, "schema": {"policy"}, "tablespace": {"region"}}


# --------------------------------------------------------------- oracle

class Registry:
    def __init__(self, categories, policies, policy2, fixture_policies=()):
        self.categories = sorted(categories)
        self.catset = set(categories)
        self.policies = sorted(policies)
        self.polset = set(policies)
        self.policy2 = policy2           # the policy the database wrapper check binds
        self.fixture_policies = set(fixture_policies)   # bound by the fixture itself


# ISO 3166-2:CN, letter codes (the extension checks China's subdivisions)
ISO3166_2_CN = set("AH BJ CQ FJ GD GS GX GZ HA HB HE HI HK HL HN JL JS JX LN MO NM NX QH SC "
                   "SD SH SN SX TJ TW XJ XZ YN ZJ".split())


def region_ok(value):
    """region=<code> on a database or tablespace: (normalised, None) or (None, why)."""
    if len(value.encode()) > 6:
        return None, "region too long"
    if not re.fullmatch(r"[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?", value):
        return None, "region syntax"
    if value[:2].upper() not in ISO3166:
        return None, "not an ISO 3166-1 country"
    if value.upper().startswith("CN-") and value[3:].upper() not in ISO3166_2_CN:
        return None, "not an ISO 3166-2:CN subdivision"
    return value.upper(), None


def parse_label(label, kind, reg):
    """The grammar of docs/sql-reference.md: (parsed dict, None) or (None, why)."""
    if label == "":
        return None, "empty label"
    p = {"categories": [], "subject": False, "anchor": None, "region_column": False,
         "policy": None, "region": None, "items": []}
    seen = set()
    for n, raw in enumerate(label.split(";"), 1):
        item = raw.strip(ITEM_WS)
        if item == "":
            return None, "item %d is empty" % n
        if "=" in item:
            key, value = item.split("=", 1)
            key, value = key.rstrip(EQ_WS), value.lstrip(EQ_WS)
            if value == "":
                return None, "item %d has no value" % n
        else:
            key, value = item, None
        if key not in KEYS[kind]:
            return None, "%r is not an item of a %s label" % (key, kind)
        if key in seen:
            return None, "%r twice" % key
        seen.add(key)
        if (value is not None) != (key in VALUED[kind]):
            return None, "%r %s a value" % (key, "needs" if value is None else "takes no")
        if key == "category":
            for cat in value.split(","):
                cat = cat.strip(CAT_WS)
                if cat not in reg.catset:
                    return None, "category %r is not registered" % cat
                p["categories"].append(cat)
        elif key == "subject":
            p["subject"] = True
            p["items"].append("subject")
        elif key == "anchor":
            if value not in EVENTS:
                return None, "unknown anchor event %r" % value
            p["anchor"] = value
            p["items"].append("anchor=" + value)
        elif key == "region" and kind == "column":
            p["region_column"] = True
            p["items"].append("region")
        elif key == "region":
            norm, why = region_ok(value)
            if why:
                return None, "%s: %r" % (why, value)
            p["region"] = norm
        elif key == "policy":
            if value not in reg.polset:
                return None, "policy %r is not loaded" % value
            p["policy"] = value
    return p, None


def expect(label, t, role, reg):
    """(expected outcome, why, parsed): 'accepted', 'GV011' or '42501'."""
    if role == USER:
        return "42501", "not a governance_admin", None
    if t["kind"] in ("unsupported", "otherdb"):
        return "GV011", "%s takes no governance label here" % t["kind"], None
    p, why = parse_label(label, t["kind"], reg)
    if p is None:
        return "GV011", why, None
    if t["kind"] == "column":
        if p["anchor"] and t["typ"] not in ANCHOR_TYPES:
            return "GV011", "anchor on a %s column" % t["typ"], None
        if p["region_column"] and t["typ"] not in REGION_TYPES:
            return "GV011", "region on a %s column" % t["typ"], None
        if p["subject"] and not t["typ_builtin"]:
            return "GV011", "subject on a %s column (not a built-in type)" % t["typ"], None
    return "accepted", None, p


# --------------------------------------------------------------- generation

WS_ITEM = ["", "", "", " ", " ", "  ", "\t", "\n", " \n ", "\t \n"]
WS_EQ = ["", "", "", " ", "\t", " \t "]
WS_CAT = ["", "", " ", "  "]
WS_ODD = ["\r", "\v", "\f", "\x85", "\xa0", "\u1680", "\u2000", "\u2028", "\u2029",
          "\u3000", "\u200b", "\ufeff", "\u180e", "\r\n", " ", "\t", "\n"]
ODD_CHARS = ["\x01", "\x1b", "\x1f", "\x7f", "\u0300", "\u0301", "\u202e", "\ufffe", "\uffff",
             "\U0010ffff", "\U0001f600", "\ufffd", "\u0130", "\u0131", "\u017f", "\u212a",
             "\u00df", "\ufb01", "\uff1d", "\uff1b", "\uff0c", "\uff43", "\u0430", "\u0435",
             "\u043e", "\u0441", "\u0440", "\u03bf", "\u00e9", "e\u0301", "\u6570\u636e",
             "%s", "%n", "%d%d%d%s", "\\", "\\n", "'", "''", "\"", "$", "$$", "$lf$", "--",
             "/*", "*/", "E'", "\\x00", "\\0", "\\u0000"]
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440",
              "i": "\u0131", "s": "\u017f", "y": "\u0443", "x": "\u0445", "k": "\u212a",
              "=": "\uff1d", ";": "\uff1b", ",": "\uff0c", "-": "\u2010", "_": "\uff3f"}
UNKNOWN_KEYS = ["categories", "categry", "cat", "Category", "CATEGORY", "category.x", "subjects",
                "Subject", "SUBJECT", "anchors", "Anchor", "regions", "Region", "REGION",
                "policy_name", "polciy", "Policy", "owner", "purpose", "retention", "x", "", " ",
                "sub ject", "category category", "\u7c7b\u522b", "categor\u00ff", "region_code",
                "tablespace", "database", "schema", "column", "table", "null", "NULL", "*"]
BAD_CATEGORIES = ["personal.nonexistent", "zzz", "personal.name.x", "Personal", "personal.",
                  ".personal", "personal..name", "9abc", "a-b", "a b", "_a", "a.B", "\u00e4",
                  "personal,", "personal;", "personal=", "*", "%", "personal.*", "a" * 63,
                  "a" * 64, ".".join(["a"] * 16), ".".join(["a"] * 17), ("b" * 63 + ".") * 3 + "c" * 63,
                  ("b" * 63 + ".") * 4, "x" * 255, "x" * 256, "x" * 100000, "personal\u200b"]
BAD_EVENTS = ["Created", "CREATED", "create", "created_at", "account-closed", "accountclosed",
              "created,account_closed", "created account_closed", "trial", "transaction_complete",
              "left_organisation", "purpose_fulfiled", "none", "null", "*", "created\u200b",
              "cr\u0435ated", "x" * 5000]
BAD_REGIONS = ["UK", "EU", "XK", "ZZ", "AA", "QM", "XA", "XX", "CHN", "156", "C", "CN-", "-CN",
               "CN-91", "CN-71", "CN-HKG", "CN-1", "CN-AB1",
               "CN--S", "CN-ABCD", "CN_SH", "CN SH", "CN-S H", "CN-\u00e9", "\u00c7N", "\uff23\uff2e",
               "cn-sh-x", "CN-SH ", "US-CA1", "GB-ENG1", "CNN", "C1", "1C", "", "CN-XY\u00e9",
               "R\u0130", "\u0131t", "CN-\u017f", "ta-\u212a"]
GOOD_REGIONS = ["CN", "cn", "Cn", "CN-SH", "cn-sh", "US-CA", "GB-ENG", "gb-eng", "JP", "HK", "MO",
                "TW", "AQ", "DE-BY", "FR-75", "CN-GD", "CN-hk", "us-ca", "Us-Ca"]


def rand_region(rng):
    if rng.random() < 0.4:
        return rng.choice(GOOD_REGIONS)
    code = rng.choice(sorted(ISO3166))
    if rng.random() < 0.5:
        alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        code += "-" + "".join(rng.choice(alnum) for _ in range(rng.randint(1, 3)))
    return "".join(c.lower() if rng.random() < 0.3 else c for c in code)


def valid_items(rng, kind, t, reg):
    """A valid item list (key, value-or-None) for an object of this kind."""
    if kind == "column":
        cand = []
        typ = t.get("typ") if t.get("kind") == "column" else None
        n = rng.choice([1, 1, 1, 1, 2, 2, 3, 5, 8])
        cats = [rng.choice(reg.categories) for _ in range(n)]
        cand.append(("category", cats))
        if typ is None or t["typ_builtin"]:
            cand.append(("subject", None))
        if typ is None or typ in ANCHOR_TYPES:
            cand.append(("anchor", rng.choice(EVENTS)))
        if typ is None or typ in REGION_TYPES:
            cand.append(("region", None))
        k = rng.randint(1, len(cand))
        items = rng.sample(cand, k)
    elif kind in ("table", "schema"):
        items = [("policy", rng.choice(reg.policies))]
    elif kind == "database":
        cand = [("policy", rng.choice(reg.policies)), ("region", rand_region(rng))]
        items = rng.sample(cand, rng.randint(1, 2))
    else:
        items = [("region", rand_region(rng))]
    return items


def render(rng, items):
    out = []
    for key, value in items:
        if value is None:
            s = key
        else:
            if isinstance(value, list):
                value = ",".join(rng.choice(WS_CAT) + v + rng.choice(WS_CAT) for v in value)
            s = key + rng.choice(WS_EQ) + "=" + rng.choice(WS_EQ) + value
        out.append(rng.choice(WS_ITEM) + s + rng.choice(WS_ITEM))
    return ";".join(out)


def pick_pos(rng, s):
    return rng.randrange(len(s) + 1)


def tokens(s):
    """(start, end) of the runs of word characters."""
    return [m.span() for m in re.finditer(r"[^;,=\s]+", s)]


def replace_token(rng, s, new):
    toks = tokens(s)
    if not toks:
        return s + new
    a, b = rng.choice(toks)
    return s[:a] + new + s[b:]


def other_kind_item(rng, reg):
    return rng.choice([
        "policy=" + rng.choice(reg.policies), "region=" + rand_region(rng), "region", "subject",
        "category=" + rng.choice(reg.categories), "anchor=" + rng.choice(EVENTS),
        "policy", "category", "anchor", "subject=yes", "region=" + rng.choice(BAD_REGIONS)])


def mutate_once(rng, s, t, reg):
    op = rng.randrange(24)
    if op == 0:                                 # byte flips, repaired to valid UTF-8
        b = bytearray(s.encode())
        for _ in range(rng.randint(1, 4)):
            if not b:
                break
            i = rng.randrange(len(b))
            if rng.random() < 0.5:
                b[i] ^= 1 << rng.randrange(8)
            else:
                b[i] = rng.choice([0x3b, 0x2c, 0x3d, 0x20, 0x09, 0x0a, 0x0d, 0x27, 0x22, 0x5c,
                                   0x24, 0x25, 0x2e, 0x5f, 0x2d, 0x80, 0xc3, 0xe2, rng.randrange(1, 256)])
        return bytes(b).decode("utf-8", "replace").replace("\0", "")
    if op == 1:                                 # truncation
        return s[:rng.randrange(len(s) + 1)]
    if op == 2:                                 # delete a range
        if not s:
            return s
        i = rng.randrange(len(s))
        return s[:i] + s[i + rng.randint(1, 5):]
    items = s.split(";")
    if op == 3:                                 # duplicate an item
        i = rng.randrange(len(items))
        items.insert(rng.randrange(len(items) + 1), items[i])
        return ";".join(items)
    if op == 4:                                 # empty items
        return rng.choice([";" + s, s + ";", s.replace(";", ";;", 1), s + " ; ", ";", "; ;" + s,
                           s.replace(";", "; \t ;", 1)])
    if op == 5:                                 # whitespace of every kind
        i = pick_pos(rng, s)
        return s[:i] + rng.choice(WS_ODD + WS_ITEM) * rng.randint(1, 3) + s[i:]
    if len(s) > ARGS.max_len // 2 and op in (6, 21):
        return s[:rng.randrange(len(s) + 1)]
    if op == 6:                                 # very long names / values
        long = rng.choice([
            "a" * 63, "a" * 64, "x" * 255, "x" * 256, "n" * rng.choice([1000, 8192, 100000]),
            ".".join(["a"] * rng.choice([16, 17, 100])),
            ("s" * 63 + ".") * 3 + "t" * 63, ("s" * 63 + ".") * 4 + "t",
            "CN-ABC", "CN-ABCD", "CN-ABCDE", rng.choice(reg.policies) * rng.randint(2, 50),
            "\u6570" * rng.choice([100, 20000])])
        return replace_token(rng, s, long)
    if op == 7:                                 # non-ASCII: homoglyphs
        idx = [i for i, c in enumerate(s) if c in HOMOGLYPHS]
        if not idx:
            return s + rng.choice(list(HOMOGLYPHS.values()))
        i = rng.choice(idx)
        return s[:i] + HOMOGLYPHS[s[i]] + s[i + 1:]
    if op == 8:                                 # odd characters, valid UTF-8
        i = pick_pos(rng, s)
        return s[:i] + rng.choice(ODD_CHARS) + s[i:]
    if op == 9:                                 # ; , = storms
        i = pick_pos(rng, s)
        n = max(1, min(rng.choice([1, 2, 3, 10, 1000, 50000]), ARGS.max_len - len(s)))
        storm = rng.choice([";", ",", "=", ";,=", "=;", ",,", " ; ", "= ,"]) * n
        return s[:i] + storm[:max(n, 1)] + s[i:]
    if op == 10:                                # case changes
        how = rng.randrange(4)
        if how == 0:
            return s.upper()
        if how == 1:
            return s.swapcase()
        toks = tokens(s)
        if not toks:
            return s
        a, b = rng.choice(toks)
        return s[:a] + (s[a:b].upper() if how == 2 else s[a:b].title()) + s[b:]
    if op == 11:                                # unknown key
        i = rng.randrange(len(items))
        it = items[i]
        m = re.match(r"(\s*)([^=]*?)(\s*(=|$))", it)
        new = rng.choice(UNKNOWN_KEYS)
        items[i] = m.group(1) + new + it[m.end(2):] if m else new
        return ";".join(items)
    if op == 12:                                # unknown category
        bad = rng.choice(BAD_CATEGORIES)
        if "category" in s and rng.random() < 0.7:
            return re.sub(r"(category\s*=\s*)", lambda m: m.group(1) + bad + rng.choice([",", ""]), s, count=1)
        return s + ";category=" + bad
    if op == 13:                                # unknown anchor event
        bad = rng.choice(BAD_EVENTS)
        if "anchor" in s:
            return re.sub(r"(anchor\s*=\s*)[^;]*", lambda m: m.group(1) + bad, s, count=1)
        return s + ";anchor=" + bad
    if op == 14:                                # unknown region
        bad = rng.choice(BAD_REGIONS)
        if "region" in s:
            return re.sub(r"(region\s*=\s*)[^;]*", lambda m: m.group(1) + bad, s, count=1)
        return s + rng.choice([";region=", ";region = "]) + bad
    if op == 15:                                # unknown policy
        p = rng.choice(reg.policies)
        bad = rng.choice([p.upper(), p + " x", p[:-1], p + "\u200b", "'" + p + "'", "\"" + p + "\"",
                          "nonexistent", p + "-", p.replace("-", "_"), p + ";", p + "," + p,
                          "%s", p + "\t" + p, "\u00a0" + p, p + "\u00a0"])
        if "policy" in s:
            return re.sub(r"(policy\s*=\s*)[^;]*", lambda m: m.group(1) + bad, s, count=1)
        return s + ";policy=" + bad
    if op == 16:                                # an item of another kind of object
        items.insert(rng.randrange(len(items) + 1), rng.choice(WS_ITEM) + other_kind_item(rng, reg))
        return ";".join(items)
    if op == 17:                                # swap separators
        a, b = rng.choice([(";", ","), (",", ";"), ("=", ":"), ("=", "=="), (";", "\n"),
                           (";", " "), ("=", " "), (",", " , "), ("=", "= ="), (";", "; ;")])
        return s.replace(a, b, rng.choice([1, 1, -1]))
    if op == 18:                                # quotes, escapes, printf specifiers around a value
        q = rng.choice(["'", "\"", "`", "\\", "%s", "%n", "$$", "(", ")", "[", "]", "{", "}"])
        return re.sub(r"=\s*([^;,]+)", lambda m: "=" + q + m.group(1) + rng.choice([q, ""]), s, count=1)
    if op == 19:                                # a category repeated many times
        cat = rng.choice(reg.categories)
        n = rng.choice([2, 3, 50, 500, 2000])
        n = max(2, min(n, (ARGS.max_len - len(s)) // (len(cat) + 1)))
        rep = ",".join([cat] * n)
        if "category" in s:
            return re.sub(r"(category\s*=\s*)", lambda m: m.group(1) + rep + ",", s, count=1)
        return "category=" + rep
    if op == 20:                                # many items
        n = rng.choice([2, 10, 1000, 20000])
        n = max(2, min(n, ARGS.max_len // (len(s) + 1)))
        return ";".join([s] * n)
    if op == 21:                                # splice: key of one item, value of another
        other = render(rng, valid_items(rng, rng.choice(list(KEYS)), t, reg))
        a, b = pick_pos(rng, s), pick_pos(rng, other)
        return s[:a] + other[b:]
    if op == 22:                                # remove or double "=" / ","
        ch = rng.choice(["=", ","])
        idx = [i for i, c in enumerate(s) if c == ch]
        if not idx:
            return s + ch
        i = rng.choice(idx)
        return s[:i] + (ch * 2 if rng.random() < 0.5 else "") + s[i + 1:]
    # op 23: drop the value of a valued item / give a value to a bare one
    if rng.random() < 0.5:
        return re.sub(r"=[^;]*", rng.choice(["=", "", "= ", "=\t"]), s, count=1)
    return re.sub(r"\b(subject|region)\b(?!\s*=)", lambda m: m.group(1) + "=" + rng.choice(["yes", "CN", "1", ""]),
                  s, count=1)


def scratch_label(rng, reg):
    choice = rng.randrange(8)
    if choice == 0:
        return rng.choice(["", " ", "\t", "\n", ";", ";;", ",", "=", "==", " ; ", "\r", "\u00a0",
                           "\ufeff", "subject;", ";subject", "category", "category=", "category= ",
                           "category=,", "anchor=", "policy=", "region=", "= x", "=;=", "NULL",
                           "null", "''", "\\", "\u0085", "\u2028"])
    if choice == 1:                              # random printable ASCII
        return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randint(1, 60)))
    if choice == 2:                              # random code points, valid UTF-8, no NUL
        out = []
        for _ in range(rng.randint(1, 40)):
            c = rng.choice([rng.randrange(1, 0x80), rng.randrange(0x80, 0x800),
                            rng.randrange(0x800, 0xd800), rng.randrange(0xe000, 0x10000),
                            rng.randrange(0x10000, 0x110000)])
            out.append(chr(c))
        return "".join(out)
    if choice == 3:                              # random tokens of the grammar
        toks = ["category", "subject", "anchor", "region", "policy", "=", ";", ",", " ", "\t",
                "\n", rng.choice(reg.categories), rng.choice(EVENTS), rng.choice(reg.policies),
                rand_region(rng), rng.choice(BAD_CATEGORIES[:20])]
        return "".join(rng.choice(toks) for _ in range(rng.randint(1, 20)))
    if choice == 4:                              # huge labels
        n = rng.choice([10000, 100000, 500000])
        return rng.choice(["subject;" * (n // 8) + "subject", "category=" + "a" * n,
                           "policy=" + "p" * n, "x" * n, " " * n + "subject", "subject" + " " * n])
    if choice == 5:                              # everything at once
        items = ["category=" + rng.choice(reg.categories), "subject", "anchor=" + rng.choice(EVENTS),
                 "region", "policy=" + rng.choice(reg.policies), "region=" + rand_region(rng)]
        rng.shuffle(items)
        return ";".join(items[:rng.randint(1, len(items))])
    if choice == 6:                              # duplicated items of every kind
        it = other_kind_item(rng, reg)
        return it + rng.choice([";", " ; ", ";\n"]) + it
    return "; ".join(sorted(set(rng.choice(reg.categories) for _ in range(3))))  # bare categories


def make_label(rng, t, reg):
    """(label, description)."""
    kind = t["kind"] if t["kind"] in KEYS else rng.choice(list(KEYS))
    r = rng.random()
    if r < 0.25:
        return render(rng, valid_items(rng, kind, t, reg)), "valid"
    if r < 0.30:
        other = rng.choice([k for k in KEYS if k != kind])
        return render(rng, valid_items(rng, other, t, reg)), "valid for a %s" % other
    if r < 0.37:
        return scratch_label(rng, reg), "scratch"
    s = render(rng, valid_items(rng, kind, t, reg))
    n = rng.choice([1, 1, 1, 2, 2, 3, 4])
    for _ in range(n):
        s = mutate_once(rng, s, t, reg)
        if len(s) > ARGS.max_len:
            s = s[:ARGS.max_len]
    return s, "%d mutation(s)" % n


# --------------------------------------------------------------- fixture

SETUP_CLUSTER = """
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{admin}') THEN CREATE ROLE {admin} NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{user}') THEN CREATE ROLE {user} NOLOGIN; END IF;
END $$;
DROP DATABASE IF EXISTS {db} WITH (FORCE);
CREATE DATABASE {db} OWNER {admin} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
"""

SETUP_TABLESPACE = """
SET client_min_messages = warning;
SET allow_in_place_tablespaces = on;
DROP TABLESPACE IF EXISTS {ts};
CREATE TABLESPACE {ts} OWNER {admin} LOCATION '';
"""

SETUP_DB = r"""
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_governance;
GRANT governance_admin TO {admin};
CREATE SCHEMA lf;
CREATE SCHEMA lf_plain;
CREATE SCHEMA lf_bound;
CREATE DOMAIN lf_plain.d_date AS date;
CREATE TABLE lf_plain.t (c_text text, c_varchar varchar(20), c_char char(2),
    c_region governance.region, c_date date, c_ts timestamp, c_tstz timestamptz, c_int int,
    c_jsonb jsonb, c_name name, c_arr text[], c_dom lf_plain.d_date, "Mixed ""Case"" ü" text);
CREATE TABLE lf_plain.p (id int, c_text text, c_date date, c_region governance.region) PARTITION BY RANGE (id);
CREATE TABLE lf_plain.p1 PARTITION OF lf_plain.p FOR VALUES FROM (0) TO (100);
CREATE TABLE lf_plain.own (c_text text, c_date date);
CREATE VIEW lf_plain.v AS SELECT c_text, c_date FROM lf_plain.t;
CREATE SEQUENCE lf_plain.s;
CREATE MATERIALIZED VIEW lf_plain.mv AS SELECT 1 AS x;
CREATE FUNCTION lf_plain.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TABLE lf_bound.g (LIKE lf_plain.t);
CREATE TABLE lf_bound.g2 (c_text text, c_date date, c_region governance.region, c_int int);
CREATE TABLE lf_bound.pp (id int, c_text text, c_date date, c_region governance.region) PARTITION BY RANGE (id);
CREATE TABLE lf_bound.pp1 PARTITION OF lf_bound.pp FOR VALUES FROM (0) TO (100);
SECURITY LABEL FOR governance ON SCHEMA lf_bound IS 'policy={p1}';
SECURITY LABEL FOR governance ON TABLE lf_bound.g2 IS 'policy={p2}';
SECURITY LABEL FOR governance ON COLUMN lf_bound.g.c_text IS 'category={cat}; subject';
SECURITY LABEL FOR governance ON COLUMN lf_bound.g.c_date IS 'anchor=created';
SECURITY LABEL FOR governance ON COLUMN lf_bound.g2.c_region IS 'region';
SECURITY LABEL FOR governance ON COLUMN lf_bound.g2.c_text IS 'category={cat}';
SECURITY LABEL FOR governance ON COLUMN lf_bound.pp.c_text IS 'category={cat}';
ALTER SCHEMA lf_plain OWNER TO {admin};
ALTER SCHEMA lf_bound OWNER TO {admin};
ALTER DOMAIN lf_plain.d_date OWNER TO {admin};
ALTER TABLE lf_plain.t OWNER TO {admin};
ALTER TABLE lf_plain.p OWNER TO {admin};
ALTER TABLE lf_plain.p1 OWNER TO {admin};
ALTER TABLE lf_plain.own OWNER TO {user};
ALTER VIEW lf_plain.v OWNER TO {admin};
ALTER SEQUENCE lf_plain.s OWNER TO {admin};
ALTER MATERIALIZED VIEW lf_plain.mv OWNER TO {admin};
ALTER FUNCTION lf_plain.f() OWNER TO {admin};
ALTER TABLE lf_bound.g OWNER TO {admin};
ALTER TABLE lf_bound.g2 OWNER TO {admin};
ALTER TABLE lf_bound.pp OWNER TO {admin};
ALTER TABLE lf_bound.pp1 OWNER TO {admin};
GRANT USAGE ON SCHEMA lf_plain, lf_bound TO {user};

-- targets: one row per object a label is set on
CREATE TABLE lf.targets (
    tkey text PRIMARY KEY, kind text NOT NULL, sql_kind text NOT NULL, obj text NOT NULL,
    classid oid NOT NULL, objid oid NOT NULL, subid int NOT NULL DEFAULT 0,
    shared boolean NOT NULL DEFAULT false, rel regclass, col name,
    typ text, typ_builtin boolean, governed boolean, probe regclass, admin_ok boolean NOT NULL,
    role text);
INSERT INTO lf.targets (tkey, kind, sql_kind, obj, classid, objid, subid, rel, col, typ,
                        typ_builtin, governed, admin_ok, role)
SELECT 'col:' || c.oid::regclass || '.' || a.attname, 'column', 'COLUMN',
       format('%s.%I', c.oid::regclass, a.attname), 'pg_class'::regclass, c.oid, a.attnum,
       c.oid::regclass, a.attname, format_type(a.atttypid, NULL),
       COALESCE(NULLIF(t.typbasetype, 0), t.oid) < 16384,
       governance.bound_policy(c.oid) IS NOT NULL,
       c.relname <> 'own', CASE WHEN c.relname = 'own' THEN '{user}' END
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relnamespace IN ('lf_plain'::regnamespace, 'lf_bound'::regnamespace) AND c.relkind IN ('r', 'p');
INSERT INTO lf.targets (tkey, kind, sql_kind, obj, classid, objid, probe, admin_ok, role)
SELECT 'table:' || c.oid::regclass, 'table', 'TABLE', c.oid::regclass::text, 'pg_class'::regclass,
       c.oid, c.oid, c.relname <> 'own', CASE WHEN c.relname = 'own' THEN '{user}' END
FROM pg_class c WHERE c.relnamespace IN ('lf_plain'::regnamespace, 'lf_bound'::regnamespace)
  AND c.relkind IN ('r', 'p');
INSERT INTO lf.targets (tkey, kind, sql_kind, obj, classid, objid, probe, admin_ok) VALUES
  ('schema:lf_plain', 'schema', 'SCHEMA', 'lf_plain', 'pg_namespace'::regclass, 'lf_plain'::regnamespace, 'lf_plain.t', true),
  ('schema:lf_bound', 'schema', 'SCHEMA', 'lf_bound', 'pg_namespace'::regclass, 'lf_bound'::regnamespace, 'lf_bound.g', true),
  ('view:lf_plain.v', 'unsupported', 'VIEW', 'lf_plain.v', 'pg_class'::regclass, 'lf_plain.v'::regclass, NULL, true),
  ('col:lf_plain.v.c_text', 'unsupported', 'COLUMN', 'lf_plain.v.c_text', 'pg_class'::regclass, 'lf_plain.v'::regclass, NULL, true),
  ('sequence:lf_plain.s', 'unsupported', 'SEQUENCE', 'lf_plain.s', 'pg_class'::regclass, 'lf_plain.s'::regclass, NULL, true),
  ('matview:lf_plain.mv', 'unsupported', 'MATERIALIZED VIEW', 'lf_plain.mv', 'pg_class'::regclass, 'lf_plain.mv'::regclass, NULL, true),
  ('function:lf_plain.f', 'unsupported', 'FUNCTION', 'lf_plain.f()', 'pg_proc'::regclass, 'lf_plain.f()'::regprocedure, NULL, true),
  ('domain:lf_plain.d_date', 'unsupported', 'DOMAIN', 'lf_plain.d_date', 'pg_type'::regclass, 'lf_plain.d_date'::regtype, NULL, true),
  ('role:{user}', 'unsupported', 'ROLE', '{user}', 'pg_authid'::regclass, (SELECT oid FROM pg_roles WHERE rolname = '{user}'), NULL, false);
UPDATE lf.targets SET shared = true WHERE sql_kind = 'ROLE';
INSERT INTO lf.targets (tkey, kind, sql_kind, obj, classid, objid, shared, probe, admin_ok)
SELECT 'database:' || datname, 'database', 'DATABASE', quote_ident(datname), 'pg_database'::regclass,
       oid, true, 'lf_plain.t', true FROM pg_database WHERE datname = current_database();
INSERT INTO lf.targets (tkey, kind, sql_kind, obj, classid, objid, shared, admin_ok)
SELECT 'database:' || datname, 'otherdb', 'DATABASE', quote_ident(datname), 'pg_database'::regclass,
       oid, true, false FROM pg_database WHERE datname = '{otherdb}';
INSERT INTO lf.targets (tkey, kind, sql_kind, obj, classid, objid, shared, admin_ok)
SELECT 'tablespace:' || spcname, 'tablespace', 'TABLESPACE', quote_ident(spcname), 'pg_tablespace'::regclass,
       oid, true, spcname = '{ts}' FROM pg_tablespace WHERE spcname IN ('pg_default', '{ts}');
GRANT USAGE ON SCHEMA lf TO PUBLIC;
GRANT SELECT ON lf.targets TO PUBLIC;

CREATE FUNCTION lf.label_of(t lf.targets) RETURNS text LANGUAGE sql STABLE AS $f$
    SELECT CASE WHEN t.shared
        THEN (SELECT label FROM pg_shseclabel WHERE classoid = t.classid AND objoid = t.objid AND provider = 'governance')
        ELSE (SELECT label FROM pg_seclabel WHERE classoid = t.classid AND objoid = t.objid
              AND objsubid = t.subid AND provider = 'governance') END
$f$;

-- Set one label; returns the outcome as JSON.  Everything is rolled back.
CREATE FUNCTION lf.try(idx int, tkey text, via text, role text, hex text) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
    t lf.targets;
    lbl text;
    stmt text;
    dq text;
    prev text;
    stored text;
    phase text := 'set';
    r jsonb := jsonb_build_object('i', idx);
    st text;
    msg text;
    det text;
    n bigint;
    cats text[];
    roles text[];
    bp text;
    t0 timestamptz := clock_timestamp();
BEGIN
    SELECT * INTO STRICT t FROM lf.targets x WHERE x.tkey = try.tkey;
    lbl := convert_from(decode(hex, 'hex'), 'UTF8');
    IF via LIKE 'dollar:%' THEN
        dq := '$' || substr(via, 8) || '$';
        IF strpos(lbl || dq, dq) <> length(lbl) + 1 THEN
            RAISE EXCEPTION 'label_fuzz: dollar quote % occurs in the label', dq;
        END IF;
        stmt := format('SECURITY LABEL FOR governance ON %s %s IS %s', t.sql_kind, t.obj, dq || lbl || dq);
    ELSIF via = 'tag' THEN
        stmt := format('SELECT governance.tag(%L, %L, %L)', t.rel, t.col, lbl);
    ELSE
        stmt := format('SECURITY LABEL FOR governance ON %s %s IS %L', t.sql_kind, t.obj, lbl);
    END IF;
    prev := lf.label_of(t);
    BEGIN
        IF role IS NOT NULL THEN
            EXECUTE format('SET LOCAL ROLE %I', role);
        END IF;
        EXECUTE stmt;
        r := r || '{{"o": "accepted"}}';
        phase := 'check';
        BEGIN
            EXECUTE stmt;
            r := r || '{{"again": "ok"}}';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            r := r || jsonb_build_object('again', st, 'again_m', left(msg, 300), 'again_d', left(det, 300));
        END;
        IF role IS NOT NULL THEN
            EXECUTE 'RESET ROLE';
        END IF;
        stored := lf.label_of(t);
        r := r || jsonb_build_object('stored_eq', stored IS NOT DISTINCT FROM lbl,
                                     'stored_len', length(stored), 'label_len', length(lbl));
        SELECT count(*) INTO n FROM governance.label_history h
        WHERE h.classid = t.classid AND h.objid = t.objid AND h.objsubid = t.subid
          AND h.new_label IS NOT DISTINCT FROM lbl AND h.old_label IS NOT DISTINCT FROM prev;
        r := r || jsonb_build_object('hist', n, 'hist_want', CASE WHEN prev IS DISTINCT FROM lbl THEN 1 ELSE 0 END);
        IF t.kind = 'column' THEN
            BEGIN
                SELECT v.categories::text[], v.roles INTO cats, roles FROM governance.tagged_columns v
                WHERE v.relation = t.rel AND v."column" = t.col;
                r := r || jsonb_build_object('v_cats', to_jsonb(cats), 'v_roles', to_jsonb(roles));
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
                r := r || jsonb_build_object('v_err', st, 'v_m', left(msg, 300), 'v_d', left(det, 300));
            END;
        END IF;
        IF t.probe IS NOT NULL THEN
            bp := governance.bound_policy(t.probe);
            r := r || jsonb_build_object('bp', bp);
            IF bp IS NOT NULL THEN
                BEGIN
                    PERFORM governance.drop_policy(bp);
                    RAISE EXCEPTION USING ERRCODE = 'ZZ998', MESSAGE = 'label_fuzz: roll back the drop';
                EXCEPTION
                    WHEN SQLSTATE 'ZZ998' THEN
                        r := r || '{{"drop": "dropped"}}';
                    WHEN OTHERS THEN
                        r := r || jsonb_build_object('drop', SQLSTATE);
                END;
            END IF;
        END IF;
        IF t.kind = 'database' THEN
            r := r || jsonb_build_object('mirror_eq', (SELECT label FROM governance.database_label) IS NOT DISTINCT FROM lbl);
            BEGIN
                PERFORM governance.set_database_region('JP');
                PERFORM governance.bind_database('{p2}');
                r := r || jsonb_build_object('wrap', lf.label_of(t));
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
                r := r || jsonb_build_object('w_err', st, 'w_m', left(msg, 300), 'w_d', left(det, 300));
            END;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'ZZ999', MESSAGE = 'label_fuzz: roll back';
    EXCEPTION
        WHEN SQLSTATE 'ZZ999' THEN
            NULL;
        WHEN query_canceled THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            r := r || jsonb_build_object('o', CASE WHEN phase = 'set' THEN 'error' ELSE 'accepted' END,
                                         CASE WHEN phase = 'set' THEN 's' ELSE 'check_err' END, st,
                                         'm', left(msg, 400), 'd', left(det, 400));
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            r := r || jsonb_build_object('o', CASE WHEN phase = 'set' THEN 'error' ELSE 'accepted' END,
                                         CASE WHEN phase = 'set' THEN 's' ELSE 'check_err' END, st,
                                         'm', left(msg, 400), 'd', left(det, 400));
    END;
    RETURN (r || jsonb_build_object('ms', round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 2)))::text;
END
$f$;
GRANT EXECUTE ON FUNCTION lf.try(int, text, text, text, text), lf.label_of(lf.targets) TO PUBLIC;
"""

STATE_SQL = ("SELECT '" + MARK + "state ' || "
             "(SELECT count(*) FROM pg_seclabel WHERE provider = 'governance') || ' ' || "
             "(SELECT count(*) FROM pg_shseclabel WHERE provider = 'governance') || ' ' || "
             "(SELECT count(*) FROM governance.label_history);\n")


def psql(args, script=None, timeout=None, db=None):
    env = dict(os.environ)
    if db:
        env["PGDATABASE"] = db
    return subprocess.run(PSQL + args, input=script, capture_output=True, timeout=timeout, env=env)


def psql_ok(args, script=None, db=None, what="psql"):
    p = psql(args, script, timeout=600, db=db)
    if p.returncode != 0:
        sys.exit("fuzz: %s failed:\n%s" % (what, p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def server_up(db=None):
    for _ in range(30):
        try:
            p = psql(["-c", "SELECT 1"], timeout=20, db=db)
            if p.returncode == 0 and p.stdout.strip() == b"1":
                return True
        except subprocess.TimeoutExpired:
            pass
        time.sleep(1)
    return False


def setup():
    """Create the scratch database and its fixture; returns (registry, targets, state)."""
    otherdb = psql_ok(["-c", "SELECT current_database()"], what="connecting").strip()
    if otherdb == DB:
        sys.exit("fuzz: run me from another database than %s" % DB)
    fmt = dict(admin=ADMIN, user=USER, db=DB, ts=TABLESPACE, otherdb=otherdb)
    psql_ok([], SETUP_CLUSTER.format(**fmt).encode(), what="creating roles and database " + DB)
    p = psql([], SETUP_TABLESPACE.format(**fmt).encode(), timeout=60)
    if p.returncode != 0:
        print("fuzz: no tablespace %s (%s); tablespace labels go to pg_default only"
              % (TABLESPACE, p.stderr.decode(errors="replace").strip()), flush=True)
    pols = psql_ok(["-c", "CREATE EXTENSION IF NOT EXISTS pg_governance",
                    "-c", "SELECT governance.load_bundled_policy(n) FROM governance.bundled_policies() n"],
                   db=DB, what="loading the bundled policies").split()
    pols = sorted(pols)
    cat0 = psql_ok(["-c", "SELECT min(category::text) FROM governance.categories WHERE category::text LIKE 'personal.%'"],
                   db=DB).strip()
    fmt.update(p1=pols[0], p2=pols[-1], cat=cat0)
    psql_ok([], SETUP_DB.format(**fmt).encode(), db=DB, what="creating the fixture")
    cats = psql_ok(["-c", "SELECT category::text FROM governance.categories"], db=DB).split("\n")
    pols = psql_ok(["-c", "SELECT name FROM governance.policies"], db=DB).split("\n")
    reg = Registry([c for c in cats if c], [p for p in pols if p], fmt["p2"], (fmt["p1"], fmt["p2"]))
    out = psql_ok(["-c", "SELECT row_to_json(t) FROM lf.targets t ORDER BY tkey"], db=DB)
    targets = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
    state = psql_ok([], STATE_SQL.encode(), db=DB).strip()[len(MARK):]
    return reg, targets, state


def teardown():
    fmt = dict(admin=ADMIN, user=USER, db=DB, ts=TABLESPACE)
    psql([], ("SET client_min_messages = warning;\n"
              "DROP DATABASE IF EXISTS {db} WITH (FORCE);\n"
              "DROP TABLESPACE IF EXISTS {ts};\n"
              "DROP ROLE IF EXISTS {admin};\n"
              "DROP ROLE IF EXISTS {user};\n").format(**fmt).encode(), timeout=120)


# --------------------------------------------------------------- running

def choose_via(rng, t, label, role):
    r = rng.random()
    if t["kind"] == "column" and r < 0.1 and role != USER:
        return "tag"
    if r < 0.45:
        for _ in range(20):
            tag = rng.choice(["", "lf", "x", "Q_", "fz9"]) + "".join(
                rng.choice("abcXYZ_") for _ in range(rng.randint(0, 3)))
            if tag[:1].isdigit():
                continue
            dq = "$" + tag + "$"
            if (label + dq).find(dq) == len(label):
                return "dollar:" + tag
    return "literal"


def choose_role(rng, t):
    if t["role"]:
        return t["role"]
    if t["admin_ok"] and rng.random() < 0.12:
        return ADMIN
    return None


def pick_target(rng, targets):
    kind = rng.choices(["column", "table", "schema", "database", "tablespace", "unsupported", "otherdb"],
                       [45, 12, 8, 15, 10, 7, 3])[0]
    cand = [t for t in targets if t["kind"] == kind] or targets
    return rng.choice(cand)


def batch_script(attempts):
    out = ["SET client_min_messages = error;\nSET log_min_messages = error;\n",
           "SET statement_timeout = '%ds';\n" % ARGS.label_timeout]
    for a in attempts:
        out.append("SELECT lf.try(%d, %s, %s, %s, '%s');\n" % (
            a["idx"], sql_lit(a["t"]["tkey"]), sql_lit(a["via"]),
            sql_lit(a["role"]) if a["role"] else "NULL", a["label"].encode().hex()))
    out.append("RESET statement_timeout;\n")
    out.append(STATE_SQL)
    return "".join(out).encode()


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def run_batch(attempts, timeout):
    """Run the attempts in one psql; returns (results by idx, state line or None, rc, stderr, secs)."""
    t0 = time.monotonic()
    try:
        p = psql([], batch_script(attempts), timeout=timeout, db=DB)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = -1, e.stdout or b"", (e.stderr or b"") + b"\n(psql killed: batch timed out)"
    results, state = {}, None
    for line in out.decode("utf-8", "replace").split("\n"):
        if line.startswith(MARK + "state "):
            state = line[len(MARK):].strip()
        elif line.startswith("{"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            results[r["i"]] = r
    return results, state, rc, err.decode("utf-8", "replace"), time.monotonic() - t0


def judge(a, r, reg):
    """None if the outcome is acceptable, else why not."""
    want, why, p = expect(a["label"], a["t"], a["role"], reg)
    a["want"], a["oracle"] = want, why
    if r["o"] == "accepted":
        if want != "accepted":
            return "accepted, but the oracle expects %s (%s)" % (want, why)
        if r.get("check_err"):
            return "accepted, then the checks failed with %s" % r["check_err"]
        if not r.get("stored_eq"):
            return "accepted, but the stored label differs (%s of %s characters)" % (
                r.get("stored_len"), r.get("label_len"))
        if r.get("again") != "ok":
            return "accepted, but setting it again failed with %s: %s %s" % (
                r.get("again"), r.get("again_m"), r.get("again_d") or "")
        if r.get("hist") != r.get("hist_want"):
            return "label_history has %s row(s) for the change, not %s" % (r.get("hist"), r.get("hist_want"))
        kind = a["t"]["kind"]
        if kind == "column":
            if r.get("v_err"):
                return "governance.tagged_columns fails on the accepted label: %s %s %s" % (
                    r["v_err"], r.get("v_m"), r.get("v_d") or "")
            if r.get("v_cats") != p["categories"]:
                return "governance.tagged_columns shows categories %r, the label has %r" % (
                    r.get("v_cats"), p["categories"])
            if r.get("v_roles") != p["items"]:
                return "governance.tagged_columns shows roles %r, the label has %r" % (
                    r.get("v_roles"), p["items"])
        if kind in ("table", "schema", "database") and a["t"]["probe"]:
            if r.get("bp") != p["policy"]:
                return "bound_policy(%s) is %r, the label binds %r" % (a["t"]["probe"], r.get("bp"), p["policy"])
            if p["policy"] and p["policy"] not in reg.fixture_policies and r.get("drop") != "2BP01":
                return "drop_policy(%r) does not see the binding: %s" % (p["policy"], r.get("drop"))
        if kind == "database":
            if not r.get("mirror_eq"):
                return "governance.database_label does not hold the label"
            if r.get("w_err"):
                return "set_database_region('JP') / bind_database(%r) fail after the label: %s %s %s" % (
                    reg.policy2, r["w_err"], r.get("w_m"), r.get("w_d") or "")
            q, wwhy = parse_label(r.get("wrap") or "", "database", reg)
            if q is None or q["policy"] != reg.policy2 or q["region"] != "JP":
                return "set_database_region / bind_database left the label %r (%s)" % (
                    r.get("wrap"), wwhy or "policy %r region %r" % (q["policy"], q["region"]))
        return None
    st = r.get("s")
    if st == want:
        return None
    # A valid anchor on a partition or child whose parent does not block on
    # that column is refused by the blocking check (docs/retention.md): it
    # depends on the policies' rules, which this oracle does not model.
    if (st == "55000" and want == "accepted" and a["t"]["kind"] == "column"
            and (r.get("m") or "").startswith("cannot block rows of table")):
        return None
    if st == "GV011" and want == "accepted":
        return "GV011, but the oracle accepts the label"
    if st == "57014":
        return "statement timeout (%d s)" % ARGS.label_timeout
    return "SQLSTATE %s, the oracle expects %s%s" % (st, want, (" (%s)" % why) if why else "")


def show(label, limit=300):
    s = repr(label)
    if len(s) > limit:
        s = s[:limit] + "... (%d characters)" % len(label)
    return s


def failure_class(why):
    """The reason without its data: what is left before the first quote, bracket or colon."""
    return re.sub(r"\d+", "_", re.split(r"['\"\[(:]", why, maxsplit=1)[0]).strip()


def report(a, r, why, saved):
    sig = (failure_class(why), a["t"]["kind"], (r or {}).get("s"))
    saved[sig] = saved.get(sig, 0) + 1
    if saved[sig] > ARGS.max_reports:
        return
    r = r or {}
    print("fuzz: FAIL seed %d label %d on %s (%s%s, %s): %s\n      label: %s\n      server: %s %s%s%s"
          % (ARGS.seed, a["idx"], a["t"]["tkey"], a["via"], (", as " + a["role"]) if a["role"] else "",
             a["desc"], why if len(why) < 500 else why[:500] + "...", show(a["label"]), r.get("o", "-"), r.get("s") or "",
             (" " + r["m"][:300]) if r.get("m") else "", ("\n      detail: " + r["d"][:300]) if r.get("d") else ""),
          flush=True)


def execute(attempts, reg, saved, totals):
    """Run and judge one batch; returns the number of failures."""
    results, state, rc, err, secs = run_batch(attempts, timeout=ARGS.seconds + 120)
    totals["secs"] += secs
    fails = 0
    for a in attempts:
        r = results.get(a["idx"])
        if r is None:
            break
        totals["labels"] += 1
        if r.get("ms", 0) > SLOWEST[0][0]:
            SLOWEST[0] = (r["ms"], a)
        key = r["o"] if r["o"] == "accepted" else r.get("s", "?")
        totals[key] = totals.get(key, 0) + 1
        pk = BY_KIND.setdefault("%s%s" % (a["t"]["kind"], " as " + a["role"] if a["role"] else ""), {})
        pk[key] = pk.get(key, 0) + 1
        why = judge(a, r, reg)
        if why and any(re.search(rx, why + " " + (r.get("m") or "")) for rx in ARGS.ignore):
            totals["ignored"] = totals.get("ignored", 0) + 1
            why = None
        if ARGS.verbose > 1:
            print("fuzz: %d %s %s -> %s %s%s" % (a["idx"], a["t"]["tkey"], show(a["label"], 120), key,
                                                 a["want"], (" FAIL " + why) if why else ""))
        if why:
            fails += 1
            report(a, r, why, saved)
    missing = [a for a in attempts if a["idx"] not in results]
    if rc != 0 or missing:
        fails += 1
        culprit = missing[0] if missing else attempts[-1]
        totals["labels"] += 1
        report(culprit, None, "psql exited %d while setting this label (crash, lost connection, "
               "error at commit?): %s" % (rc, err.strip()[-1500:]), saved)
    elif state != STATE0[0]:
        fails += 1
        print("fuzz: FAIL labels or label_history rows leaked out of rolled-back attempts: %s, was %s"
              % (state, STATE0[0]), flush=True)
        STATE0[0] = state
    return fails


STATE0 = [None]
SLOWEST = [(0.0, None)]
BY_KIND = {}


def fuzz(reg, targets):
    t_start = time.monotonic()
    deadline = t_start + ARGS.seconds
    rng = random.Random(ARGS.seed)
    totals = {"labels": 0, "secs": 0.0}
    saved = {}
    status = 0
    idx = 0
    per_label = 0.005
    while True:
        left = deadline - time.monotonic()
        if left <= 0.5:
            break
        n = max(1, min(ARGS.batch, int(left / per_label * 0.8)))
        attempts = []
        g0 = time.monotonic()
        for _ in range(n):
            t = pick_target(rng, targets)
            label, desc = make_label(rng, t, reg)
            label = label.replace("\0", "")
            role = choose_role(rng, t)
            attempts.append({"idx": idx, "t": t, "label": label, "desc": desc, "role": role,
                             "via": choose_via(rng, t, label, role)})
            idx += 1
        done0 = totals["labels"]
        totals["gen"] = totals.get("gen", 0.0) + time.monotonic() - g0
        fails = execute(attempts, reg, saved, totals)
        if totals["labels"] > done0:
            per_label = max(0.0005, totals["secs"] / totals["labels"])
        if ARGS.verbose:
            print("fuzz: batch of %d, %d done, %d failing; %.1f s in psql, %.1f s generating, %.1f s in all"
                  % (n, totals["labels"] - done0, fails, totals["secs"], totals["gen"],
                     time.monotonic() - t_start), flush=True)
        if fails:
            status = 1
            if not server_up(DB):
                print("fuzz: FAIL the server does not answer SELECT 1 after the batch", flush=True)
                break
            if not ARGS.keep_going:
                break
    elapsed = time.monotonic() - t_start
    ms, a = SLOWEST[0]
    if a:
        print("fuzz: slowest label %d on %s (%s, %d characters): %.0f ms: %s"
              % (a["idx"], a["t"]["tkey"], a["desc"], len(a["label"]), ms, show(a["label"], 100)), flush=True)
    if ARGS.verbose:
        for kind, outcomes in sorted(BY_KIND.items()):
            print("fuzz:   %-32s %s" % (kind, ", ".join("%d %s" % (n, o) for o, n in sorted(outcomes.items()))))
    more = sum(max(0, c - ARGS.max_reports) for c in saved.values())
    if more:
        print("fuzz: %d more failure(s) like those reported" % more)
    other = ", ".join("%d %s" % (v, k) for k, v in sorted(totals.items())
                      if k not in ("labels", "secs", "gen", "accepted", "GV011", "42501", "ignored"))
    print("fuzz: %d labels: %d accepted, %d GV011, %d 42501%s; %d failing, %d ignored, seed %d, %.1f s, "
          "%.0f labels/s"
          % (totals["labels"], totals.get("accepted", 0), totals.get("GV011", 0), totals.get("42501", 0),
             (", " + other) if other else "", sum(saved.values()), totals.get("ignored", 0), ARGS.seed, elapsed,
             totals["labels"] / elapsed if elapsed else 0), flush=True)
    return status


def try_labels(labels, reg, targets):
    keys = ARGS.target or sorted({min(t["tkey"] for t in targets if t["kind"] == k)
                                  for k in ("column", "table", "schema", "database", "tablespace")})
    by_key = {t["tkey"]: t for t in targets}
    attempts = []
    for label in labels:
        for k in keys:
            if k not in by_key:
                sys.exit("fuzz: no target %r (--list-targets)" % k)
            t = by_key[k]
            attempts.append({"idx": len(attempts), "t": t, "label": label, "desc": "given",
                             "role": t["role"] or ARGS.role, "via": ARGS.via})
    results, state, rc, err, _s = run_batch(attempts, timeout=600)
    status = 0
    for a in attempts:
        r = results.get(a["idx"])
        if r is None:
            print("%s: no result; psql exited %d: %s" % (a["t"]["tkey"], rc, err.strip()[-1500:]))
            return 1
        why = judge(a, r, reg)
        print("%s %s: %s %s%s%s\n    oracle: %s%s%s" % (
            a["t"]["tkey"], show(a["label"], 200), r["o"], r.get("s") or "",
            (" " + r["m"]) if r.get("m") else "", ("\n    detail: " + r["d"]) if r.get("d") else "",
            a["want"], (" (%s)" % a["oracle"]) if a["oracle"] else "",
            ("\n    FAIL " + why) if why else ""))
        if ARGS.verbose:
            print("    " + json.dumps(r, ensure_ascii=False)[:2000])
        status |= bool(why)
    return status


def minimize(label, reg, targets):
    """Greedy shrinking that keeps the kind of failure (the reason, numbers blanked)."""
    by_key = {t["tkey"]: t for t in targets}
    if not ARGS.target or ARGS.target[0] not in by_key:
        sys.exit("fuzz: --minimize needs --target KEY (--list-targets)")
    t = by_key[ARGS.target[0]]
    role = t["role"] or ARGS.role

    def fails(cands):
        atts = [{"idx": i, "t": t, "label": c, "desc": "min", "role": role, "via": ARGS.via}
                for i, c in enumerate(cands)]
        results, _state, _rc, _err, _s = run_batch(atts, timeout=600)
        out = []
        for a in atts:
            r = results.get(a["idx"])
            why = "no result" if r is None else judge(a, r, reg)
            out.append(failure_class(why) if why else None)
        return out

    want = fails([label])[0]
    if not want:
        print("minimize: the label does not fail")
        return 1
    print("minimize: keeping %r" % want)
    chunk = max(1, len(label) // 2)
    while chunk >= 1 and len(label) > 1:
        cands = [label[:s] + label[s + chunk:] for s in range(0, len(label), chunk)]
        res = fails(cands)
        good = [c for c, w in zip(cands, res) if w == want]
        if good:
            label = min(good, key=len)
            chunk = min(chunk, max(1, len(label) // 2))
        else:
            chunk //= 2
    print("minimize: %d characters: %r" % (len(label), label))
    ARGS.target = [t["tkey"]]
    try_labels([label], reg, targets)
    return 0


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--batch", type=int, default=400, help="labels per psql call")
    ap.add_argument("--label-timeout", type=int, default=20,
                    help="statement_timeout of one attempt, seconds (exceeding it is a failure)")
    ap.add_argument("--max-len", type=int, default=600000, help="longest label generated, characters")
    ap.add_argument("--max-reports", type=int, default=3, help="failures printed per kind of failure")
    ap.add_argument("--keep-going", action="store_true", help="do not stop at the first failing batch")
    ap.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                    help="a failure whose reason or server message matches is counted, not failed "
                    "(while a known bug is open)")
    ap.add_argument("--no-drop", dest="drop", action="store_false",
                    help="keep the scratch database, tablespace and roles")
    ap.add_argument("--verbose", "-v", action="count", default=0)
    ap.add_argument("--try", dest="try_", action="append", metavar="LABEL", help="set this label and report")
    ap.add_argument("--try-hex", action="append", metavar="HEX", help="the same, UTF-8 in hex")
    ap.add_argument("--minimize", metavar="LABEL", help="shrink a failing label (needs --target)")
    ap.add_argument("--target", action="append", metavar="KEY", help="target of --try / --minimize")
    ap.add_argument("--role", default=None, help="run --try as this role (e.g. %s)" % ADMIN)
    ap.add_argument("--via", default="literal", help="literal, dollar:<tag> or tag (--try)")
    ap.add_argument("--list-targets", action="store_true")
    ARGS = ap.parse_args()
    if ARGS.seed is None:
        ARGS.seed = random.SystemRandom().randrange(2 ** 31)
    if not ARGS.try_ and not ARGS.try_hex and not ARGS.minimize and not ARGS.list_targets:
        print("fuzz: seed %d, %g seconds" % (ARGS.seed, ARGS.seconds), flush=True)
    if not server_up():
        print("fuzz: the server does not answer SELECT 1", flush=True)
        return 1
    try:
        reg, targets, STATE0[0] = setup()
        if ARGS.list_targets:
            for t in targets:
                print("%-40s %-11s %s" % (t["tkey"], t["kind"], t["typ"] or ""))
            return 0
        if ARGS.try_ or ARGS.try_hex:
            labels = (ARGS.try_ or []) + [bytes.fromhex(h).decode() for h in ARGS.try_hex or []]
            return try_labels(labels, reg, targets)
        if ARGS.minimize:
            return minimize(ARGS.minimize, reg, targets)
        if ARGS.verbose:
            print("fuzz: %d categories, policies %s, %d targets" % (len(reg.categories), " ".join(reg.policies),
                                                                  len(targets)), flush=True)
        return fuzz(reg, targets)
    finally:
        if ARGS.drop:
            teardown()


if __name__ == "__main__":
    sys.exit(main())
