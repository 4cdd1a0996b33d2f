#!/usr/bin/env python3
"""Lists Swift functions (func, init, closures-bodied vars excluded) longer than N lines that
have no comment saying why they are one piece ("One piece" in the doc comment or the line
before). Usage: Tools/long-functions.py [N] [DIR]   (default 80, Sources). Exit 1 if any."""
import os, re, sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 80
root = sys.argv[2] if len(sys.argv) > 2 else "Sources"
decl = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|private|fileprivate|static|class|override|mutating|final|@discardableResult|@inline\(__always\))\s+)*(?:func\s+\w+|init\??)\s*[(<]')
bad = 0
for dirpath, _, files in os.walk(root):
    for name in files:
        if not name.endswith(".swift") or name in ("TopLevelDomains.swift", "EmbeddedProfiles.swift"):
            continue
        path = os.path.join(dirpath, name)
        lines = open(path, encoding="utf-8").read().split("\n")
        i = 0
        while i < len(lines):
            if decl.match(lines[i]):
                depth, started, j = 0, False, i
                while j < len(lines):
                    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', lines[j].split("//")[0])
                    depth += code.count("{") - code.count("}")
                    if "{" in code: started = True
                    if started and depth <= 0: break
                    j += 1
                length = j - i + 1
                context = "\n".join(lines[max(0, i - 6):i + 1]).lower()
                if length > limit and "one piece" not in context:
                    print(f"{path}:{i + 1}: {length} lines: {lines[i].strip()[:80]}")
                    bad += 1
                i += 1
            else:
                i += 1
sys.exit(1 if bad else 0)
