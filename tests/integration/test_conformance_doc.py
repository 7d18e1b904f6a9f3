"""docs/conformance.md tells the truth about the routes core/client registers.

No server: the registered routes are read from the C++ sources
(registered_routes.py) and compared with the doc's table rows. A pattern
serves a row when the method is the same (or the row says ANY) and the pattern
matches the row's path segment by segment: a `{param}` segment of the pattern
matches any segment of the row, a literal only itself (so the code's
`/pushrules/{scope}/...` serves the spec's `/pushrules/global/...`, while a
literal `/profile/{userId}/displayname` does not serve `/profile/{userId}/{keyName}`).
A row whose path ends in `/*` covers every path under that prefix.
"""

import re
from collections import Counter

import pytest

from registered_routes import CLIENT, REPO, ExtractError, registered_routes

DOC = REPO / "docs" / "conformance.md"
METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "ANY"}
STATUSES = ("done", "partial", "absent", "in progress")
ROW_RE = re.compile(r"^\|\s*([A-Z]+)\s*\|\s*`([^`]+)`\s*\|\s*([^|]*?)\s*\|\s*(.*?)\s*\|?\s*$")
OUTSIDE_CLIENT = "served by core/admin"


def doc_rows():
    """(method, path, status, notes, line) of every endpoint row of the doc."""
    rows = []
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        m = ROW_RE.match(line)
        if m and m.group(1) in METHODS and m.group(2).startswith("/"):
            rows.append((m.group(1), m.group(2), m.group(3), m.group(4), number))
    return rows


def status_of(cell):
    for status in STATUSES:
        if cell == status or cell.startswith(status + " "):
            return status
    return None


def serves(route, method, path):
    if method not in ("ANY", route.method):
        return False
    if path.endswith("/*"):
        return route.pattern.startswith(path[:-1])
    ours, theirs = route.pattern.split("/"), path.split("/")
    return len(ours) == len(theirs) and all(
        a == b or (a.startswith("{") and a.endswith("}")) for a, b in zip(ours, theirs))


@pytest.fixture(scope="module")
def routes():
    return registered_routes(CLIENT)


@pytest.fixture(scope="module")
def rows():
    return doc_rows()


def test_the_extractor_finds_the_routes_it_must(routes):
    # A broken extractor finding nothing would pass every check below.
    found = {(r.method, r.pattern) for r in routes}
    for known in [("GET", "/_matrix/client/v3/sync"),
                  ("PUT", "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}"),
                  ("GET", "/_matrix/client/r0/sync"),
                  ("GET", "/_matrix/media/v3/download/{serverName}/{mediaId}"),
                  ("GET", "/_matrix/client/v3/pushrules/{scope}/{kind}/{ruleId}")]:
        assert known in found, f"registered_routes.py no longer finds {known}"
    assert len(found) > 150


def test_rows_are_well_formed_and_unique(rows):
    assert len(rows) > 150
    bad = [f"line {n}: {status!r}" for _, _, status, _, n in rows if status_of(status) is None]
    assert not bad, f"status must start with one of {STATUSES}: {bad}"
    twice = [k for k, c in Counter((m, p) for m, p, *_ in rows).items() if c > 1]
    assert not twice, f"rows listed twice: {twice}"


def test_the_v1_12_count_matches_the_rows(rows):
    # The doc states how many v1.12 method+path pairs it lists: a row
    # deleted (or added) there without updating the count is caught here.
    text = DOC.read_text()
    stated = re.search(r"on (\d+) distinct method\+path pairs", text)
    assert stated, "the doc no longer states its count of v1.12 method+path pairs"
    body = text.split("## Spec v1.12 endpoints", 1)[1].split("\n## ", 1)[0]
    in_section = [line for line in body.splitlines()
                  if ROW_RE.match(line) and ROW_RE.match(line).group(1) in METHODS]
    assert len(in_section) == int(stated.group(1)), \
        f"the doc says {stated.group(1)} v1.12 pairs but lists {len(in_section)} rows for them"
    counts = Counter(status_of(ROW_RE.match(line).group(3)) for line in in_section)
    said = re.search(r"Of the \d+: (\d+) done, (\d+) partial, (\d+) absent,\s+(\d+) in progress",
                     text)
    assert said, "the doc no longer states its counts per status"
    rows_say = [counts["done"], counts["partial"], counts["absent"], counts["in progress"]]
    assert [int(x) for x in said.groups()] == rows_say, \
        f"the doc's counts (done, partial, absent, in progress) should be {rows_say}"


def test_every_registered_route_has_a_row(routes, rows):
    missing = [f"{r.method} {r.pattern} ({r.where})" for r in routes
               if not any(serves(r, m, p) for m, p, *_ in rows)]
    assert not missing, "registered routes missing from docs/conformance.md:\n  " + \
        "\n  ".join(missing)


def test_no_row_says_absent_or_in_progress_for_a_registered_route(routes, rows):
    wrong = []
    for method, path, status, _, line in rows:
        if status_of(status) not in ("absent", "in progress") or path.endswith("/*"):
            continue
        by = [r for r in routes if serves(r, method, path)]
        if by:
            wrong.append(f"line {line}: {method} {path} says {status!r} but "
                         f"{by[0].where} registers {by[0].pattern}: mark it done or partial")
    assert not wrong, "\n  ".join(["docs/conformance.md out of date:"] + wrong)


def test_no_row_says_done_or_partial_for_an_unregistered_route(routes, rows):
    wrong = [f"line {line}: {method} {path} says {status!r} but core/client does not register it"
             for method, path, status, notes, line in rows
             if status_of(status) in ("done", "partial") and not path.endswith("/*")
             and not notes.startswith(OUTSIDE_CLIENT)
             and not any(serves(r, method, path) for r in routes)]
    assert not wrong, "\n  ".join(["docs/conformance.md out of date:"] + wrong)


def write_client(tmp_path, files):
    client = tmp_path / "core" / "client"
    client.mkdir(parents=True)
    for name, text in files.items():
        (client / name).write_text(text)
    return client


ROUTES_CPP = """
void add_r0_aliases(http::Router& router) {
  constexpr std::string_view v3 = "/_matrix/client/v3/";
  for (auto& route : copies) {
    router.add(route.method, "/_matrix/client/r0/" + route.pattern.substr(v3.size()),
               std::move(route.handler), route.options);
  }
}
void add_routes_of_every_area(http::Router& router, Context& ctx) {
  add_area_routes(router, ctx);
  // add_commented_out_routes(router, ctx);
  add_r0_aliases(router);
}
"""


def test_the_extractor_follows_constants_loops_calls_and_the_alias(tmp_path):
    client = write_client(tmp_path, {
        "routes.cpp": ROUTES_CPP,
        "area.h": 'inline constexpr const char* kShared = "/_matrix/client/v3/shared";\n',
        "area.cpp": """
constexpr const char* kPrefixes[] = {"/_matrix/media/v3", "/_matrix/media/r0"};
void helper(Context& ctx, http::Router& r) {
  r.add("DELETE", std::string(kShared) + "/{id}", handler);
}
void add_area_routes(http::Router& router, Context& ctx) {
  const std::string base = "/_matrix/client/v3/rooms/{roomId}";
  router.add("GET", base, handler);  // router.add("GET", "/commented", h);
  for (const char* method : {"GET", "PUT"}) {
    router.add(method, base + "/x" "/y", handler);
  }
  for (const char* prefix : kPrefixes) {
    const std::string legacy = std::string(prefix) + "/download";
    router.add("GET", legacy, handler, {.auth = http::Auth::none});
  }
  router.add(
      "POST",
      kShared,
      [&ctx](http::Request& req) { return f(ctx, req, "a,b"); });
  helper(ctx, router);
}
"""})
    found = [(r.method, r.pattern) for r in registered_routes(client)]
    assert found == [
        ("GET", "/_matrix/client/v3/rooms/{roomId}"),
        ("GET", "/_matrix/client/v3/rooms/{roomId}/x/y"),
        ("PUT", "/_matrix/client/v3/rooms/{roomId}/x/y"),
        ("GET", "/_matrix/media/v3/download"),
        ("GET", "/_matrix/media/r0/download"),
        ("POST", "/_matrix/client/v3/shared"),
        ("DELETE", "/_matrix/client/v3/shared/{id}"),
        ("GET", "/_matrix/client/r0/rooms/{roomId}"),
        ("GET", "/_matrix/client/r0/rooms/{roomId}/x/y"),
        ("PUT", "/_matrix/client/r0/rooms/{roomId}/x/y"),
        ("POST", "/_matrix/client/r0/shared"),
        ("DELETE", "/_matrix/client/r0/shared/{id}"),
    ]


@pytest.mark.parametrize("area, complaint", [
    ('router.add("GET", path_of(kind), handler);', "area.cpp:3: cannot evaluate 'path_of(kind)'"),
    ('router.add("GET", unknown + "/x", handler);', "area.cpp:3: cannot evaluate 'unknown'"),
    ("add_elsewhere_routes(router, ctx);", "add_elsewhere_routes not found"),
])
def test_the_extractor_refuses_what_it_cannot_read(tmp_path, area, complaint):
    client = write_client(tmp_path, {
        "routes.cpp": ROUTES_CPP,
        "area.cpp": "\nvoid add_area_routes(http::Router& router, Context& ctx) {\n  " + area +
                    "\n}\n"})
    with pytest.raises(ExtractError, match=re.escape(complaint)):
        registered_routes(client)
