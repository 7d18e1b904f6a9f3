#include "matrix/signing.h"

#include "matrix/base64.h"
#include "matrix/event_hash.h"
#include "matrix/redaction.h"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>

using namespace eltrix::matrix;
using nlohmann::json;

namespace {

// The spec appendix "Cryptographic Test Vectors": seed, server name and key ID.
SigningKey spec_key() {
  const auto seed = decode_base64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
  REQUIRE(seed);
  return SigningKey::from_seed(*seed, "1");
}

constexpr const char* kServer = "domain";

// The secret must not be streamable by accident.
template <typename T, typename = void>
struct is_streamable : std::false_type {};
template <typename T>
struct is_streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};
static_assert(!is_streamable<SigningKey>::value);

}  // namespace

TEST_CASE("signing: the spec's JSON signing test vectors", "[matrix][signing]") {
  const SigningKey key = spec_key();
  CHECK(key.key_id() == "ed25519:1");

  json empty = json::object();
  key.sign_json(empty, kServer);
  CHECK(empty == json::parse(R"({
    "signatures": {
      "domain": {
        "ed25519:1": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
      }
    }
  })"));

  json data = {{"one", 1}, {"two", "Two"}};
  key.sign_json(data, kServer);
  CHECK(data == json::parse(R"({
    "one": 1,
    "signatures": {
      "domain": {
        "ed25519:1": "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
      }
    },
    "two": "Two"
  })"));

  CHECK(verify_json(empty, kServer, "ed25519:1", key.public_key_base64()));
  CHECK(verify_json(data, kServer, "ed25519:1", key.public_key_base64()));
}

TEST_CASE("signing: the spec's event signing test vectors", "[matrix][signing]") {
  const SigningKey key = spec_key();

  json minimal = json::parse(R"({
    "room_id": "!x:domain", "sender": "@a:domain", "origin": "domain",
    "origin_server_ts": 1000000, "signatures": {}, "hashes": {}, "type": "X",
    "content": {}, "prev_events": [], "auth_events": [], "depth": 3,
    "unsigned": {"age_ts": 1000000}
  })");
  add_content_hash(minimal);
  sign_event(minimal, key, kServer, kRoomVersion10);
  CHECK(minimal == json::parse(R"({
    "auth_events": [],
    "content": {},
    "depth": 3,
    "hashes": {"sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},
    "origin": "domain",
    "origin_server_ts": 1000000,
    "prev_events": [],
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "signatures": {
      "domain": {
        "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"
      }
    },
    "type": "X",
    "unsigned": {"age_ts": 1000000}
  })"));

  json message = json::parse(R"({
    "content": {"body": "Here is the message content"},
    "event_id": "$0:domain", "origin": "domain", "origin_server_ts": 1000000,
    "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
    "signatures": {}, "unsigned": {"age_ts": 1000000}
  })");
  add_content_hash(message);
  sign_event(message, key, kServer, kRoomVersion10);
  CHECK(message == json::parse(R"({
    "content": {"body": "Here is the message content"},
    "event_id": "$0:domain",
    "hashes": {"sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"},
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {
      "domain": {
        "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"
      }
    },
    "unsigned": {"age_ts": 1000000}
  })"));

  // Event signatures are checked over the redacted form, which is what makes
  // them survive a redaction.
  CHECK(verify_json(redact_event(message, kRoomVersion10), kServer, "ed25519:1",
                    key.public_key_base64()));
  CHECK_FALSE(verify_json(message, kServer, "ed25519:1", key.public_key_base64()));
}

TEST_CASE("signing: v11 signs what v11 redaction keeps", "[matrix][signing]") {
  const SigningKey key = spec_key();
  json event = {{"type", "X"},
                {"room_id", "!x:domain"},
                {"sender", "@a:domain"},
                {"origin", "domain"},
                {"origin_server_ts", 1},
                {"content", json::object()},
                {"prev_events", json::array()},
                {"auth_events", json::array()},
                {"depth", 3}};
  add_content_hash(event);
  json v10 = event, v11 = event;
  sign_event(v10, key, kServer, kRoomVersion10);
  sign_event(v11, key, kServer, kRoomVersion11);
  CHECK(v10["signatures"] != v11["signatures"]);
  CHECK(verify_json(redact_event(v11, kRoomVersion11), kServer, "ed25519:1",
                    key.public_key_base64()));
  // v11 does not protect `origin`, so changing it keeps the signature valid.
  v11["origin"] = "elsewhere";
  CHECK(verify_json(redact_event(v11, kRoomVersion11), kServer, "ed25519:1",
                    key.public_key_base64()));

  json unhashed = event;
  unhashed.erase("hashes");
  CHECK_THROWS_AS(sign_event(unhashed, key, kServer, kRoomVersion10), std::invalid_argument);
}

TEST_CASE("signing: sign_json merges signatures and keeps unsigned", "[matrix][signing]") {
  const SigningKey key = spec_key();
  const SigningKey other = SigningKey::generate("a_XXXX");
  json object = {{"one", 1},
                 {"unsigned", {{"age", 10}}},
                 {"signatures", {{"other.server", {{"ed25519:x", "sig"}}}}}};
  key.sign_json(object, kServer);
  other.sign_json(object, kServer);

  CHECK(object["unsigned"] == json{{"age", 10}});
  CHECK(object["signatures"]["other.server"] == json{{"ed25519:x", "sig"}});
  CHECK(object["signatures"][kServer].size() == 2);
  CHECK(object["signatures"][kServer]["ed25519:1"] == key.sign(R"({"one":1})"));
  CHECK(verify_json(object, kServer, "ed25519:1", key.public_key_base64()));
  CHECK(verify_json(object, kServer, "ed25519:a_XXXX", other.public_key_base64()));

  // Neither `unsigned` nor other signatures are covered.
  object["unsigned"]["age"] = 11;
  object["signatures"]["third"] = {{"ed25519:z", "x"}};
  CHECK(verify_json(object, kServer, "ed25519:1", key.public_key_base64()));
}

TEST_CASE("signing: verify_json rejects everything but a good signature", "[matrix][signing]") {
  const SigningKey key = spec_key();
  const std::string public_key = key.public_key_base64();
  json signed_object = {{"one", 1}, {"two", "Two"}};
  key.sign_json(signed_object, kServer);
  REQUIRE(verify_json(signed_object, kServer, "ed25519:1", public_key));

  json tampered = signed_object;
  tampered["one"] = 2;
  CHECK_FALSE(verify_json(tampered, kServer, "ed25519:1", public_key));
  json extra = signed_object;
  extra["three"] = 3;
  CHECK_FALSE(verify_json(extra, kServer, "ed25519:1", public_key));

  CHECK_FALSE(verify_json(signed_object, "other", "ed25519:1", public_key));
  CHECK_FALSE(verify_json(signed_object, kServer, "ed25519:2", public_key));
  CHECK_FALSE(verify_json(signed_object, kServer, "ed25519:1",
                          SigningKey::generate("x").public_key_base64()));
  CHECK_FALSE(verify_json(signed_object, kServer, "ed25519:1", "not base64!"));
  CHECK_FALSE(verify_json(signed_object, kServer, "ed25519:1", public_key.substr(0, 40)));

  json wrong_algorithm = signed_object;
  wrong_algorithm["signatures"][kServer]["curve25519:1"] =
      signed_object["signatures"][kServer]["ed25519:1"];
  CHECK_FALSE(verify_json(wrong_algorithm, kServer, "curve25519:1", public_key));

  json bad_signature = signed_object;
  bad_signature["signatures"][kServer]["ed25519:1"] = "AAAA";
  CHECK_FALSE(verify_json(bad_signature, kServer, "ed25519:1", public_key));
  bad_signature["signatures"][kServer]["ed25519:1"] = 5;
  CHECK_FALSE(verify_json(bad_signature, kServer, "ed25519:1", public_key));
  bad_signature["signatures"][kServer] = "x";
  CHECK_FALSE(verify_json(bad_signature, kServer, "ed25519:1", public_key));
  bad_signature["signatures"] = json::array();
  CHECK_FALSE(verify_json(bad_signature, kServer, "ed25519:1", public_key));

  json unencodable = signed_object;
  unencodable["x"] = 0.5;
  CHECK_FALSE(verify_json(unencodable, kServer, "ed25519:1", public_key));
  CHECK_FALSE(verify_json(json::array(), kServer, "ed25519:1", public_key));
}

TEST_CASE("signing: keys, seeds and versions", "[matrix][signing]") {
  const SigningKey a = SigningKey::generate("a_XXXX");
  const SigningKey b = SigningKey::generate("a_XXXX");
  CHECK(a.key_id() == "ed25519:a_XXXX");
  CHECK(a.seed().size() == 32);
  CHECK(a.seed() != b.seed());
  CHECK(a.public_key_base64() != b.public_key_base64());
  CHECK(decode_base64(a.public_key_base64())->size() == 32);

  const SigningKey restored = SigningKey::from_seed(a.seed(), "a_XXXX");
  CHECK(restored.public_key_base64() == a.public_key_base64());
  CHECK(restored.sign("message") == a.sign("message"));
  CHECK(decode_base64(a.sign("message"))->size() == 64);

  const SigningKey copy = a;
  CHECK(copy.sign("m") == a.sign("m"));

  CHECK_THROWS_AS(SigningKey::generate(""), std::invalid_argument);
  CHECK_THROWS_AS(SigningKey::generate("a:b"), std::invalid_argument);
  CHECK_THROWS_AS(SigningKey::generate("a-b"), std::invalid_argument);
  CHECK_THROWS_AS(SigningKey::from_seed(std::string(31, 'x'), "1"), std::invalid_argument);
  CHECK_THROWS_AS(SigningKey::from_seed(std::string(33, 'x'), "1"), std::invalid_argument);
}

TEST_CASE("signing: sign_json leaves bad input untouched", "[matrix][signing]") {
  const SigningKey key = spec_key();
  json with_float = {{"x", 0.5}, {"unsigned", {{"a", 1}}}, {"signatures", json::object()}};
  const json before = with_float;
  CHECK_THROWS_AS(key.sign_json(with_float, kServer), std::invalid_argument);
  CHECK(with_float == before);

  json bad_signatures = {{"signatures", "x"}};
  CHECK_THROWS_AS(key.sign_json(bad_signatures, kServer), std::invalid_argument);
  json bad_entry = {{"signatures", {{kServer, "x"}}}};
  CHECK_THROWS_AS(key.sign_json(bad_entry, kServer), std::invalid_argument);
  json array = json::array();
  CHECK_THROWS_AS(key.sign_json(array, kServer), std::invalid_argument);
}
