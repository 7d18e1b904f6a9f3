#include "matrix/event_hash.h"

#include "matrix/base64.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace eltrix::matrix;
using nlohmann::json;

namespace {

json message_event() {
  return json::parse(R"({
    "auth_events": ["$create", "$power", "$member"],
    "content": {"body": "Hello", "msgtype": "m.text"},
    "depth": 7,
    "origin": "example.org",
    "origin_server_ts": 1700000000000,
    "prev_events": ["$prev"],
    "room_id": "!room:example.org",
    "sender": "@alice:example.org",
    "type": "m.room.message"
  })");
}

bool urlsafe_base64(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

}  // namespace

TEST_CASE("content hash: the spec's event signing examples", "[matrix][event_hash]") {
  json minimal = json::parse(R"({
    "room_id": "!x:domain", "sender": "@a:domain", "origin": "domain",
    "origin_server_ts": 1000000, "signatures": {}, "hashes": {}, "type": "X",
    "content": {}, "prev_events": [], "auth_events": [], "depth": 3,
    "unsigned": {"age_ts": 1000000}
  })");
  CHECK(compute_content_hash(minimal) == "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos");

  json message = json::parse(R"({
    "content": {"body": "Here is the message content"},
    "event_id": "$0:domain", "origin": "domain", "origin_server_ts": 1000000,
    "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
    "signatures": {}, "unsigned": {"age_ts": 1000000}
  })");
  add_content_hash(message);
  CHECK(message["hashes"] == json{{"sha256", "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"}});
}

TEST_CASE("content hash ignores unsigned, signatures and hashes only", "[matrix][event_hash]") {
  const json event = message_event();
  const std::string hash = compute_content_hash(event);
  CHECK(decode_base64(hash)->size() == 32);

  json annotated = event;
  annotated["unsigned"] = {{"age", 10}};
  annotated["signatures"] = {{"example.org", {{"ed25519:1", "x"}}}};
  annotated["hashes"] = {{"sha256", "y"}};
  CHECK(compute_content_hash(annotated) == hash);

  json edited = event;
  edited["content"]["body"] = "Hello!";
  CHECK(compute_content_hash(edited) != hash);

  // Other algorithms in `hashes` survive; a malformed `hashes` is replaced.
  json with_other = event;
  with_other["hashes"] = {{"sha512", "z"}};
  add_content_hash(with_other);
  CHECK(with_other["hashes"] == json{{"sha256", hash}, {"sha512", "z"}});
  json with_bad = event;
  with_bad["hashes"] = "nonsense";
  add_content_hash(with_bad);
  CHECK(with_bad["hashes"] == json{{"sha256", hash}});

  CHECK_THROWS_AS(compute_content_hash(json::array()), std::invalid_argument);
  json with_float = event;
  with_float["content"]["x"] = 0.5;
  CHECK_THROWS_AS(compute_content_hash(with_float), std::invalid_argument);
}

TEST_CASE("event IDs are reference hashes", "[matrix][event_hash]") {
  json event = message_event();
  add_content_hash(event);
  const std::string id = compute_event_id(event, kRoomVersion10);

  CHECK(id.size() == 44);
  CHECK(id.front() == '$');
  CHECK(urlsafe_base64(id.substr(1)));
  CHECK(compute_event_id(event, kRoomVersion10) == id);

  // Independently computed (Python: the v10-redacted event, json.dumps with
  // sort_keys and compact separators, sha256, urlsafe_b64encode without '=').
  CHECK(id == "$mv6rXA7w4sJkCkVfntk7Qi0Ab3L_OsODGMEPu7HfwD4");
  CHECK(compute_event_id(event, kRoomVersion11) == "$u2j9AS_gdpHVv1KIyHC3V2C_9lbpORVY-s9bO9EGiDQ");

  SECTION("not covered: unsigned, signatures, age_ts, event_id") {
    json annotated = event;
    annotated["unsigned"] = {{"age", 1234}, {"transaction_id", "t"}};
    annotated["signatures"] = {{"example.org", {{"ed25519:1", "sig"}}}};
    annotated["age_ts"] = 5;
    annotated["event_id"] = id;
    CHECK(compute_event_id(annotated, kRoomVersion10) == id);
  }
  SECTION("covered: the content, through the content hash") {
    json edited = event;
    edited["content"]["body"] = "Goodbye";
    // The body itself is redacted away, so without a fresh content hash the
    // ID does not move; with it, as when the event is built, it does.
    CHECK(compute_event_id(edited, kRoomVersion10) == id);
    add_content_hash(edited);
    CHECK(compute_event_id(edited, kRoomVersion10) != id);
  }
  SECTION("covered: protected top-level keys") {
    json later = event;
    later["origin_server_ts"] = 1700000000001;
    CHECK(compute_event_id(later, kRoomVersion10) != id);
    json deeper = event;
    deeper["depth"] = 8;
    CHECK(compute_event_id(deeper, kRoomVersion10) != id);
  }
  SECTION("origin is covered in v10 but not in v11") {
    json moved = event;
    moved["origin"] = "other.example.org";
    CHECK(compute_event_id(moved, kRoomVersion10) != id);
    CHECK(compute_event_id(moved, kRoomVersion11) == compute_event_id(event, kRoomVersion11));
  }
}
