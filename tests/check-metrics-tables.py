#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Does a scrape say what the metric family tables declare?

  tests/check-metrics-tables.py BINARY SCRAPE_FILE

Reads `BINARY agent --list-metrics=json` and a /metrics text.  Prints one
line per problem (nothing when all agree): a family the tables do not
declare, a TYPE or HELP other than the table's, a series whose label names
are not the family's (the container set's pod and namespace may be absent:
they are there only for pods).
"""
import json
import re
import subprocess
import sys

LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
OPTIONAL = {"pod", "namespace"}


def unescape_help(s):
    return s.replace("\\n", "\n").replace("\\\\", "\\")


def main(binary, path):
    r = subprocess.run([binary, "agent", "--list-metrics=json"], capture_output=True, text=True,
                       check=True)
    fams = {f["name"]: f for f in json.loads(r.stdout)}
    problems = []
    seen_bad = set()

    def bad(msg):
        if msg not in seen_bad:
            seen_bad.add(msg)
            problems.append(msg)

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("# HELP ") or line.startswith("# TYPE "):
                kind, rest = line[2:6], line[7:]
                name, _, text = rest.partition(" ")
                f_ = fams.get(name)
                if f_ is None:
                    bad(f"{name}: not declared in any table")
                elif kind == "TYPE" and text != f_["type"]:
                    bad(f"{name}: TYPE {text}, the table says {f_['type']}")
                elif kind == "HELP" and unescape_help(text) != f_["help"]:
                    bad(f"{name}: HELP differs from the table's")
                continue
            if line.startswith("#"):
                continue
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? ", line)
            if not m:
                bad(f"unparsable line: {line[:80]}")
                continue
            name, labels = m.group(1), m.group(2) or ""
            f_ = fams.get(name)
            extra = set()
            if f_ is None:
                for suffix in ("_bucket", "_sum", "_count"):
                    base = name[: -len(suffix)] if name.endswith(suffix) else None
                    if base and base in fams and fams[base]["type"] == "histogram":
                        f_ = fams[base]
                        if suffix == "_bucket":
                            extra = {"le"}
                        break
            if f_ is None:
                bad(f"{name}: not declared in any table")
                continue
            have = [k for k, _ in LABEL.findall(labels)]
            want = set(f_["labels"]) | extra
            need = want - (OPTIONAL if f_["container"] else set())
            if not set(have) <= want or not need <= set(have) or len(have) != len(set(have)):
                bad(f"{f_['name']}: series labels {sorted(have)}, the table declares "
                    f"{f_['labels']}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
