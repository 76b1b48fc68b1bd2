#!/usr/bin/env python3
"""Checks that docs/openapi.yaml describes exactly the routes lockboxd serves.

    python3 scripts/check-routes.py [--root DIR]

Compares

  * the route table, `routes[]` in src/http/server.c (entries like
    `{ "GET", "/v1/tenants/{}", h_tenant_get, true }`, where `{}` is a path
    parameter), with the operations under `paths:` in docs/openapi.yaml, by
    method and path shape (parameter names do not matter, their positions
    do); and
  * whether each route needs authentication (the entry's last field) with
    whether its operation declares `security: []` (public) or a scheme; and
  * the wire codes of the error table in src/core/err.c with the spec's
    `ErrorCode` enum, both ways.

The console's static files (`/`, `/ui`, `/ui/...`, console.c's
console_path()) are answered before the route table and are not API
routes: they are skipped in the C source and must not appear in the spec.

Python 3 standard library only: the spec is read line by line, relying on
its layout (path keys `^  /...:$` under `paths:`, method keys
`^    get:$` and so on, the enum under `^    ErrorCode:$`), which
scripts/lint-openapi.sh keeps valid YAML.  Prints one summary line; exits
1 listing every difference, 2 when a file cannot be read or parsed.
Called by scripts/lint-openapi.sh.
"""
import argparse
import os
import re
import sys

SERVER_C = "src/http/server.c"
ERR_C = "src/core/err.c"
SPEC = "docs/openapi.yaml"

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

# One routes[] entry: { "METHOD", "/pattern", handler, true|false }
ROUTE_RE = re.compile(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]*)"\s*,\s*(\w+)\s*,\s*(true|false)\s*\}')
# One err.c row: { LB_..., status, "code", "message" }
ERR_ROW_RE = re.compile(r'\{\s*(LB_\w+)\s*,\s*(\d{3})\s*,\s*"([a-z0-9_]+)"\s*,')
PARAM_RE = re.compile(r"\{[^/{}]*\}")


class Fail(Exception):
    """A file that cannot be read or parsed: exit 2."""


def read(root, rel):
    try:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise Fail(f"{rel}: {e.strerror}") from None


def strip_c_comments(text):
    """Blanks /* */ and // comments (keeping line numbers); strings are kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def is_console(path):
    """console.c's console_path(): the web console, not an API route."""
    return path in ("/", "/ui") or path.startswith("/ui/")


def shape(path):
    """A path with every parameter, `{}` or `{name}`, as `{}`."""
    return PARAM_RE.sub("{}", path)


def c_routes(root):
    """{(METHOD, shape): (line, pattern, auth)} from server.c's routes[]."""
    text = strip_c_comments(read(root, SERVER_C))
    m = re.search(r"\broutes\s*\[\s*\]\s*=\s*\{", text)
    if not m:
        raise Fail(f"{SERVER_C}: no routes[] table")
    end = text.find("};", m.end())
    if end < 0:
        raise Fail(f"{SERVER_C}: routes[] is not closed")
    routes, dups = {}, []
    for e in ROUTE_RE.finditer(text, m.end(), end):
        method, pattern = e.group(1), e.group(2)
        line = text.count("\n", 0, e.start()) + 1
        if is_console(pattern):
            continue
        key = (method, shape(pattern))
        if key in routes:
            dups.append(f"{SERVER_C}:{line}: {method} {pattern} is in routes[] twice")
        routes[key] = (line, pattern, e.group(4) == "true")
    if not routes:
        raise Fail(f"{SERVER_C}: routes[] has no entries")
    return routes, dups


def spec_lines(root):
    return read(root, SPEC).split("\n")


def spec_operations(lines):
    """({(METHOD, shape): [line, path, authed]}, problems) from `paths:`.

    `authed` is False for `security: []`, True for a list of schemes and
    None when the operation declares no security (redocly's lint refuses
    that)."""
    ops, problems, seen_shapes = {}, [], {}
    in_paths, path, path_line, op = False, None, 0, None
    for no, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^\S", line):
            in_paths = line.rstrip() == "paths:"
            path = op = None
            continue
        if not in_paths:
            continue
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path, path_line, op = m.group(1).strip("'\""), no, None
            if is_console(path):
                problems.append(f"{SPEC}:{no}: {path} is a console path, not an API route; "
                                "leave it out of the spec")
            s = shape(path)
            if s in seen_shapes:
                problems.append(f"{SPEC}:{no}: {path} has the same shape as {seen_shapes[s]}")
            seen_shapes.setdefault(s, path)
            continue
        if re.match(r"^  \S", line):
            path = op = None  # a key under paths: that is no path (an extension)
            continue
        if re.match(r"^    \S", line):
            op = None
        m = re.match(r"^    (" + "|".join(METHODS) + r"):\s*$", line)
        if m and path is not None:
            op = ops[(m.group(1).upper(), shape(path))] = [no, path, None]
            continue
        m = re.match(r"^      security:\s*(\[\s*\])?\s*(#.*)?$", line)
        if m and op is not None:
            op[2] = m.group(1) is None
    if not ops:
        raise Fail(f"{SPEC}: no operations under paths:")
    return ops, problems


def spec_error_codes(lines):
    """The ErrorCode schema's enum values, with their line numbers."""
    codes = {}
    for i, line in enumerate(lines):
        if line.rstrip() == "    ErrorCode:":
            break
    else:
        raise Fail(f"{SPEC}: no ErrorCode schema")
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or lines[j].startswith("      ")):
        if lines[j].rstrip() == "      enum:":
            k = j + 1
            while k < len(lines):
                m = re.match(r"^        - ['\"]?([a-z0-9_]+)['\"]?\s*(#.*)?$", lines[k])
                if not m:
                    break
                codes[m.group(1)] = k + 1
                k += 1
            return codes
        j += 1
    raise Fail(f"{SPEC}: ErrorCode has no block-style enum")


def err_codes(root):
    """{code: (line, status)} from err.c's table; `ok` (LB_OK) is no error."""
    text = strip_c_comments(read(root, ERR_C))
    codes = {}
    for m in ERR_ROW_RE.finditer(text):
        if m.group(1) == "LB_OK":
            continue
        codes.setdefault(m.group(3), (text.count("\n", 0, m.start()) + 1, int(m.group(2))))
    if not codes:
        raise Fail(f"{ERR_C}: no error table rows")
    return codes


def param_names(paths):
    """{shape of a path prefix ending in a parameter: the spec's name for it}."""
    names = {}
    for path in paths:
        segs = path.split("/")
        for i, seg in enumerate(segs):
            m = re.fullmatch(r"\{([^/{}]*)\}", seg)
            if m:
                names.setdefault(shape("/".join(segs[:i + 1])), m.group(1))
    return names


def named(pattern, names):
    """The C pattern with each `{}` named as the spec names it at that place."""
    segs = pattern.split("/")
    for i, seg in enumerate(segs):
        if seg == "{}":
            segs[i] = "{" + names.get(shape("/".join(segs[:i + 1])), "param") + "}"
    return "/".join(segs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args()
    root = os.path.normpath(args.root)

    try:
        routes, problems = c_routes(root)
        lines = spec_lines(root)
        ops, spec_problems = spec_operations(lines)
        problems += spec_problems
        enum = spec_error_codes(lines)
        codes = err_codes(root)
    except Fail as e:
        print(f"check-routes: {e}", file=sys.stderr)
        print("check-routes: could not compare: FAIL", file=sys.stderr)
        return 2

    # `{}` mapped positionally to the names the spec uses at that place.
    names = param_names(op[1] for op in ops.values())

    for key in sorted(routes.keys() - ops.keys(), key=lambda k: (k[1], k[0])):
        line, pattern, _ = routes[key]
        problems.append(f"{SERVER_C}:{line}: {key[0]} {pattern} is served but not in {SPEC} "
                        f"(as {key[0].lower()} under {named(pattern, names)})")
    for key in sorted(ops.keys() - routes.keys(), key=lambda k: (k[1], k[0])):
        line, path, _ = ops[key]
        problems.append(f"{SPEC}:{line}: {key[0]} {path} is in the spec but not in "
                        f"{SERVER_C} routes[]")
    for key in sorted(routes.keys() & ops.keys(), key=lambda k: (k[1], k[0])):
        (cline, pattern, auth), (sline, path, authed) = routes[key], ops[key]
        if authed is None:
            problems.append(f"{SPEC}:{sline}: {key[0]} {path} declares no security")
        elif auth != authed:
            problems.append(f"{SPEC}:{sline}: {key[0]} {path} is "
                            f"{'authenticated' if authed else 'public (security: [])'} in the "
                            f"spec, {'authenticated' if auth else 'public'} in "
                            f"{SERVER_C}:{cline}")
    for code in sorted(codes.keys() - enum.keys()):
        line, status = codes[code]
        problems.append(f"{ERR_C}:{line}: error code {code} ({status}) is not in the spec's "
                        "ErrorCode enum")
    for code in sorted(enum.keys() - codes.keys()):
        problems.append(f"{SPEC}:{enum[code]}: ErrorCode {code} is not a code of {ERR_C}")

    summary = (f"check-routes: {len(routes)} routes in {SERVER_C}, {len(ops)} operations in "
               f"{SPEC}, {len(codes)} error codes in {ERR_C}")
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{summary}, {len(problems)} differences: FAIL", file=sys.stderr)
        return 1
    print(f"{summary}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
