#!/usr/bin/env python3
"""Regenerates the command reference of docs/cli.md (between its BEGIN/END markers) from the
built binary's --help: one section per subcommand with its usage and options.
  python3 Tools/cli-reference.py [path/to/etrust]
A test (CLIReferenceTests) checks that every subcommand and option of --help is in docs/cli.md."""
import re, subprocess, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
etrust = sys.argv[1] if len(sys.argv) > 1 else str(root / ".build/debug/etrust")
doc = root / "docs/cli.md"
BEGIN, END = "<!-- BEGIN COMMAND REFERENCE (Tools/cli-reference.py) -->", "<!-- END COMMAND REFERENCE -->"

def help_of(path):
    return subprocess.run([etrust, *path, "--help"], capture_output=True, text=True, env={"COLUMNS": "200"}).stdout

def subcommands(path=()):
    text = help_of(list(path))
    m = re.search(r"^SUBCOMMANDS:\n(.*?)(?:\n\n|\Z)", text, re.S | re.M)
    if not m:
        return [list(path)]
    out = []
    for line in m.group(1).splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            name = line.split()[0]
            if name != "help":
                out += subcommands((*path, name))
    return out

def section(path):
    text = help_of(path)
    overview = re.search(r"^OVERVIEW: (.*?)(?:\n\n)", text, re.S | re.M)
    usage = re.search(r"^USAGE: (.*?)(?:\n\n)", text, re.S | re.M)
    lines = [f"### etrust {' '.join(path)}", ""]
    if overview:
        lines += [" ".join(overview.group(1).split()), ""]
    if usage:
        lines += ["```", "etrust " + " ".join(usage.group(1).split()).removeprefix("etrust "), "```", ""]
    for block in ("ARGUMENTS", "OPTIONS"):
        m = re.search(rf"^{block}:\n(.*?)(?:\n\n|\Z)", text, re.S | re.M)
        if not m:
            continue
        entries, current = [], None
        for line in m.group(1).splitlines():
            if re.match(r"^  \S", line):
                parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
                current = [parts[0], parts[1] if len(parts) > 1 else ""]
                entries.append(current)
            elif current is not None:
                current[1] = (current[1] + " " + line.strip()).strip()
        for name, desc in entries:
            if name.startswith("-h, --help") or name == "--version":
                continue
            lines.append(f"- `{name}`" + (f": {desc}" if desc else ""))
        lines.append("")
    return "\n".join(lines)

body = "\n".join(section(p) for p in subcommands())
text = doc.read_text()
start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
doc.write_text(text[:start] + "\n\n" + body + "\n" + text[end:])
print(f"wrote {doc}")
