#!/usr/bin/env python3
"""The Python + Jinja2 + PyYAML script childgen replaces, as the benchmark's
reference (`cargo bench -- heavy` runs it side by side with `childgen render`).

    python3 benches/render.py DIFF TEMPLATE PATTERNS > child.yml

DIFF is `git diff --name-status` output, TEMPLATE a Jinja2 template rendered
once per group, PATTERNS stop words (`pipeline_name:pipelines,stage_name::pipelines`:
the value is the folder N colons after STOP). It does what `childgen render`
does, the way such a script does it: parse the listing, extract the variables
with the same stop-word rule, check them against the same `values` regex, group
(a rename counts for its old path too), render each group with the group's
variables and its `files`, parse and merge the fragments (`stages` an ordered
union, `variables` key-wise, any other key defined twice must be identical) and
dump YAML. It uses libyaml's C loader and dumper when PyYAML has them, to give
the reference its best chance.
"""

import re
import sys

import jinja2
import yaml

STATUS = re.compile(r"^([AMDRCTUXB])([0-9]{1,3})?$")
VALUES = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def fail(message):
    sys.stderr.write(f"error: {message}\n")
    sys.exit(2)


def unquote(field):
    """Decodes git's C-style quoting (`"caf\\303\\251.txt"`)."""
    if not field.startswith('"'):
        return field
    inner, out, i = field[1:-1], bytearray(), 0
    while i < len(inner):
        c = inner[i]
        if c != "\\":
            out += c.encode()
            i += 1
        elif inner[i + 1] in ESCAPES:
            out.append(ESCAPES[inner[i + 1]])
            i += 2
        else:
            out.append(int(inner[i + 1 : i + 4], 8))
            i += 4
    return out.decode("utf-8", errors="surrogateescape")


def parse_listing(text, name):
    """One dict per path (the first entry wins), sorted by path."""
    changes = {}
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        match = STATUS.match(fields[0])
        if not match:
            fail(f"{name}:{number}: not a name-status line: {line!r}")
        status, score = match.group(1), match.group(2)
        paths = [unquote(f) for f in fields[1:]]
        if len(paths) != (2 if status in "RC" else 1):
            fail(f"{name}:{number}: status {status} takes {2 if status in 'RC' else 1} path(s)")
        change = {
            "path": paths[-1],
            "status": status,
            "score": int(score) if score else None,
            "old_path": paths[0] if len(paths) == 2 else None,
        }
        changes.setdefault(change["path"], change)
    return [changes[p] for p in sorted(changes)]


def parse_patterns(patterns):
    """`var:STOP` with one colon per level after STOP → [(var, depth, [STOP parts])]."""
    items = []
    for item in patterns.split(","):
        name, rest = item.strip().split(":", 1)
        after = rest.lstrip(":")
        depth = 1 + len(rest) - len(after)
        items.append((name.strip(), depth, after.strip().strip("/").split("/")))
    return items


def extract(items, path):
    """The values of every variable for `path`, or None when one is missing."""
    parts = path.split("/")
    folders = len(parts) - 1
    values = []
    for _, depth, stop in items:
        start = next(
            (i for i in range(folders - len(stop) + 1) if parts[i : i + len(stop)] == stop),
            None,
        )
        if start is None:
            return None
        index = start + len(stop) - 1 + depth
        if index >= folders:
            return None
        values.append(parts[index])
    return tuple(values)


def group(changes, items):
    """{values: [changes]}, each change once per group; renames count twice."""
    groups = {}
    for change in changes:
        paths = [change["path"]]
        if change["status"] == "R" and change["old_path"] not in (None, change["path"]):
            paths.append(change["old_path"])
        for path in paths:
            values = extract(items, path)
            if values is None:
                continue
            for (var, _, _), value in zip(items, values):
                if not VALUES.match(value):
                    fail(f"path {path!r}: value {value!r} of variable `{var}` is not allowed")
            files = groups.setdefault(values, [])
            if not files or files[-1] is not change:
                files.append(change)
    return groups


def merge(fragments):
    """Ordered union of `stages`, key-wise `variables`, other keys identical."""
    merged, stages, variables = {}, [], {}
    for origin, doc in fragments:
        for key, value in doc.items():
            if key == "stages":
                stages += [s for s in value if s not in stages]
            elif key == "variables":
                for name, var in value.items():
                    if variables.setdefault(name, var) != var:
                        fail(f"variable `{name}` differs in {origin}")
            elif merged.setdefault(key, value) != value:
                fail(f"`{key}` is defined differently in {origin}")
    head = {}
    if stages:
        head["stages"] = stages
    if variables:
        head["variables"] = variables
    return {**head, **merged}


def yaml_quote(value):
    return yaml.dump(str(value), Dumper=DUMPER, default_style='"', width=1 << 30).rstrip("\n").rstrip(".").rstrip()


def main():
    if len(sys.argv) != 4:
        fail("usage: render.py DIFF TEMPLATE PATTERNS")
    diff, template_path, patterns = sys.argv[1:]
    with open(diff, encoding="utf-8") as f:
        changes = parse_listing(f.read(), diff)
    items = parse_patterns(patterns)
    groups = group(changes, items)
    with open(template_path, encoding="utf-8") as f:
        source = f.read()
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["yaml_quote"] = yaml_quote
    template = env.from_string(source)
    fragments = []
    for values in sorted(groups):
        context = {var: value for (var, _, _), value in zip(items, values)}
        context["files"] = groups[values]
        context["vars"] = {}
        text = template.render(context)
        doc = yaml.load(text, Loader=LOADER)
        if doc:
            fragments.append((f"group {values}", doc))
    merged = merge(fragments)
    out = yaml.dump(merged, Dumper=DUMPER, sort_keys=False, default_flow_style=False, width=1 << 30)
    sys.stdout.write(
        f"# Generated from {len(changes)} changed path(s) in {len(groups)} group(s). "
        f"Do not edit: change the templates.\n{out}"
    )


if __name__ == "__main__":
    main()
