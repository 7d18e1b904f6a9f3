"""The Client-Server routes Eltrix registers, read from the C++ sources.

docs/conformance.md is checked against this list (test_conformance_doc.py), so
the extractor must not miss a route quietly: anything it cannot evaluate (a
path built from a call, a name it does not know, a route function it cannot
find) raises ExtractError naming the file and line, and the check fails.

What it understands, because core/client/ registers routes this way:
  - `router.add(METHOD, PATH, ...)` where METHOD and PATH are string literals,
    names of string constants (`constexpr const char* kPath = "..."`, `const
    std::string base = "..."`, also arrays), `std::string(...)` around those,
    and `+` of any of these;
  - `for (const char* prefix : {"a", "b"})` (or over a constant array): the
    loop variable takes every value, so a route in the loop counts once per value;
  - a route function calling another (`add_x_routes(router, ctx)`), starting
    from add_routes_of_every_area in routes.cpp;
  - a prefix alias (routes.cpp's add_r0_aliases): `router.add(route.method,
    "<new prefix>" + route.pattern.substr(old.size()), ...)` over the routes
    registered before it, copied for every route under the old prefix.
Routes behind a configuration switch (the legacy media endpoints) are listed:
the server can serve them.

Run it to print the routes: python3 tests/integration/registered_routes.py
"""

import itertools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "core" / "client"
ENTRY = "add_routes_of_every_area"


class ExtractError(Exception):
    pass


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    where: str  # file:line of the router.add call (or of the alias that copied it)


def literal_end(text, i):
    """If a string or character literal starts at `i`, the offset after it;
    else None. (A quote after a digit is a digit separator: 1'000.)"""
    c = text[i]
    if c not in "\"'" or (c == "'" and i > 0 and text[i - 1].isalnum()):
        return None
    if c == '"' and i > 0 and text[i - 1] == "R":  # R"delim(...)delim"
        open_paren = text.find("(", i)
        close = ")" + text[i + 1:open_paren] + '"'
        end = text.find(close, open_paren)
        return len(text) if end < 0 else end + len(close)
    j = i + 1
    while j < len(text) and text[j] != c:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def blank_comments(text):
    """The text with comments replaced by spaces (offsets and lines kept)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        end = literal_end(text, i)
        if end is not None:
            i = end
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out[i:j] = [ch if ch == "\n" else " " for ch in text[i:j]]
            i = j
        else:
            i += 1
    return "".join(out)


def closing(text, start, open_ch, close_ch):
    """Offset of the bracket closing the one at `start` (strings skipped)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        end = literal_end(text, i)
        if end is not None:
            i = end
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ExtractError(f"unbalanced {open_ch} at offset {start}")


def split_top(text, sep):
    """Split on `sep` outside strings, parentheses and braces."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        end = literal_end(text, i)
        if end is not None:
            cur.append(text[i:end])
            i = end
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [p.strip() for p in parts]


STRING_TYPE = r"(?:std::string_view|std::string|const\s+char\s*\*|char\s*\*|char|auto\s*\*?)"
CONST_RE = re.compile(r"\b(?:constexpr|const)\s+(?:const\s+)?" + STRING_TYPE +
                      r"\s*(?:const\s+)?(\w+)\s*(\[\s*\])?\s*=\s*([^;]+);")
LOOP_RE = re.compile(r"\bfor\s*\(\s*(?:const\s+)?" + STRING_TYPE + r"\s*&?\s*(\w+)\s*:\s*")
LITERALS_RE = re.compile(r'^(?:\s*"(?:[^"\\]|\\.)*")+\s*$')


class SourceFile:
    """One C++ file: its string constants and loop variables, by position."""

    def __init__(self, path, root):
        self.path = path
        self.root = root
        self.raw = path.read_text()
        self.text = blank_comments(self.raw)
        # name -> [(from, to, values)]: a binding valid between two offsets.
        self.bindings = {}
        # Definitions in source order, so each sees the names bound before it
        # (a constant built in a loop from the loop's variable, a loop over a
        # constant array).
        found = [(m.start(), "const", m) for m in CONST_RE.finditer(self.text)]
        found += [(m.start(), "loop", m) for m in LOOP_RE.finditer(self.text)]
        for _, kind, m in sorted(found, key=lambda d: d[0]):
            if kind == "const":
                values = self.try_eval(m.group(3), m.start(), array=bool(m.group(2)))
                if values is not None:
                    self.bind(m.group(1), m.end(), len(self.text), values)
                continue
            close = closing(self.text, self.text.rfind("(", m.start(), m.end()), "(", ")")
            values = self.try_eval(self.text[m.end():close], m.start(), array=True)
            if values is None:
                continue  # a loop over something else (events, rows)
            after = close + 1
            while self.text[after].isspace():
                after += 1
            end = (closing(self.text, after, "{", "}") if self.text[after] == "{" else
                   self.text.find(";", after))
            self.bind(m.group(1), close, end, values)

    def bind(self, name, start, end, values):
        self.bindings.setdefault(name, []).append((start, end, values))

    def line(self, offset):
        return self.raw.count("\n", 0, offset) + 1

    def where(self, offset):
        return f"{self.path.relative_to(self.root)}:{self.line(offset)}"

    def lookup(self, name, at):
        found = [b for b in self.bindings.get(name, []) if b[0] <= at <= b[1]]
        # The innermost (latest starting) binding in scope wins.
        return max(found, key=lambda b: b[0])[2] if found else None

    def try_eval(self, expr, at, array=False):
        try:
            return self.eval(expr, at, array)
        except ExtractError:
            return None

    def eval(self, expr, at, array=False):
        """Every string value `expr` can have at offset `at`."""
        expr = expr.strip()
        if array:
            if not (expr.startswith("{") and expr.endswith("}")):
                values = self.lookup(expr, at)
                if values is None:
                    raise ExtractError(f"{self.where(at)}: cannot evaluate {expr!r}")
                return values
            return [v for item in split_top(expr[1:-1], ",") if item
                    for v in self.eval(item, at)]
        terms = split_top(expr, "+")
        choices = [self.term(t, at) for t in terms]
        return ["".join(p) for p in itertools.product(*choices)]

    def term(self, t, at):
        if LITERALS_RE.match(t):
            return ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', t))]
        m = re.fullmatch(r"(?:std::string|std::string_view)\s*[({](.*)[)}]", t, re.S)
        if m:
            return self.eval(m.group(1), at)
        if t.startswith("(") and t.endswith(")"):
            return self.eval(t[1:-1], at)
        if re.fullmatch(r"\w+", t):
            values = self.lookup(t, at)
            if values is not None:
                return values
        raise ExtractError(f"{self.where(at)}: cannot evaluate {t!r}")


FUNC_RE = re.compile(r"\bvoid\s+(\w+)\s*\(")
ROUTER_PARAM_RE = re.compile(r"(?:^|,)\s*(?:eltrix::)?http::Router\s*&\s*(\w+)\s*(?:,|$)")


@dataclass
class RouteFunction:
    source: SourceFile
    name: str
    router: str
    body_start: int
    body_end: int


def route_functions(files):
    """Every function defined in `files` taking a (non-const) Router&."""
    found = {}
    for f in files:
        for m in FUNC_RE.finditer(f.text):
            close = closing(f.text, m.end() - 1, "(", ")")
            param = ROUTER_PARAM_RE.search(f.text[m.end():close])
            if not param:
                continue
            brace = close + 1
            while brace < len(f.text) and f.text[brace].isspace():
                brace += 1
            if brace >= len(f.text) or f.text[brace] != "{":
                continue  # a declaration
            if m.group(1) in found:
                raise ExtractError(f"{f.where(m.start())}: {m.group(1)} defined twice")
            found[m.group(1)] = RouteFunction(f, m.group(1), param.group(1), brace,
                                              closing(f.text, brace, "{", "}"))
    return found


def calls_in(fn):
    """The router.add calls and route-function calls of `fn`, in order."""
    text = fn.source.text
    pattern = re.compile(r"\b(?:(%s)\s*\.\s*add|(\w+))\s*\(" % re.escape(fn.router))
    for m in pattern.finditer(text, fn.body_start, fn.body_end):
        open_paren = m.end() - 1
        args = split_top(text[open_paren + 1:closing(text, open_paren, "(", ")")], ",")
        if m.group(1):
            yield ("add", m.start(), args)
        elif fn.router in args:
            yield ("call", m.start(), m.group(2))


ALIAS_METHOD_RE = re.compile(r"\w+\.method")


def alias_copy(fn, at, args, routes):
    """routes.cpp's prefix alias: copies of the routes under the old prefix."""
    src = fn.source
    m = re.fullmatch(r'(.+?)\s*\+\s*\w+\.pattern\.substr\(\s*(\w+)\.size\(\)\s*\)', args[1])
    if not m:
        raise ExtractError(f"{src.where(at)}: cannot evaluate router.add({args[0]}, {args[1]})")
    (new_prefix,) = src.eval(m.group(1), at)
    (old_prefix,) = src.eval(m.group(2), at)
    return [Route(r.method, new_prefix + r.pattern[len(old_prefix):], src.where(at))
            for r in routes if r.pattern.startswith(old_prefix)]


def walk(fn, functions, routes, stack):
    if fn.name in stack:
        raise ExtractError(f"{fn.source.where(fn.body_start)}: {fn.name} calls itself")
    for kind, at, what in calls_in(fn):
        src = fn.source
        if kind == "call":
            if what not in functions:
                raise ExtractError(f"{src.where(at)}: route function {what} not found in core/client")
            walk(functions[what], functions, routes, stack + [fn.name])
            continue
        if len(what) < 2:
            raise ExtractError(f"{src.where(at)}: router.add with fewer than two arguments")
        if ALIAS_METHOD_RE.fullmatch(what[0]):
            routes.extend(alias_copy(fn, at, what, routes))
            continue
        methods, paths = src.eval(what[0], at), src.eval(what[1], at)
        routes.extend(Route(m, p, src.where(at)) for m in methods for p in paths)


def registered_routes(client_dir=CLIENT):
    """Every (method, pattern) core/client registers, in registration order."""
    root = client_dir.parent.parent  # file names relative to the repository
    files = [SourceFile(p, root) for p in sorted(client_dir.rglob("*.cpp")) +
             sorted(client_dir.rglob("*.h"))]
    functions = route_functions(files)
    if ENTRY not in functions:
        raise ExtractError(f"{ENTRY} not found in {client_dir}: where do routes start now?")
    # Constants declared in headers are visible in the files including them.
    headers = [f for f in files if f.path.suffix == ".h"]
    for f in files:
        for h in headers:
            for name, bindings in h.bindings.items():
                if name not in f.bindings:
                    f.bindings[name] = [(0, len(f.text), b[2]) for b in bindings]
    routes = []
    walk(functions[ENTRY], functions, routes, [])
    return routes


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else CLIENT
    for r in registered_routes(root):
        print(f"{r.method:7} {r.pattern}    ({r.where})")
