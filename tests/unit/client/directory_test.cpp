// The pure parts of the directory areas: LIKE escaping, publicRooms tokens,
// the advertised spec versions and the well-known base URL.
#include "storage/directory.h"
#include "client/public_rooms.h"
#include "client/versions.h"
#include "http/error.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace eltrix;

TEST_CASE("escape_like makes LIKE wildcards literal", "[client][directory]") {
  CHECK(storage::escape_like("alice") == "alice");
  CHECK(storage::escape_like("a%b_c\\d") == "a\\%b\\_c\\\\d");
  CHECK(storage::escape_like("") == "");
}

TEST_CASE("publicRooms tokens round-trip and reject garbage", "[client][directory]") {
  using Position = storage::PublicRoomsQuery::Position;
  for (const Position& p : {Position{true, 0, "!a:b"}, Position{false, 123456, "!x:y.org:8448"},
                            Position{true, 7, "!odd/room+id=:example.org"}}) {
    const std::string token = client::encode_public_rooms_token(p);
    // Safe in a query string without escaping.
    CHECK(std::all_of(token.begin(), token.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_';
    }));
    const Position back = client::decode_public_rooms_token(token);
    CHECK(back.forward == p.forward);
    CHECK(back.joined_members == p.joined_members);
    CHECK(back.room_id == p.room_id);
  }
  auto rejects = [](const std::string& token) {
    try {
      client::decode_public_rooms_token(token);
    } catch (const http::MatrixError& e) {
      return e.status() == 400 && e.errcode() == "M_INVALID_PARAM";
    }
    return false;
  };
  CHECK(rejects(""));
  CHECK(rejects("!!!!"));
  CHECK(rejects(std::string(600, 'A')));
  // Valid Base64 of texts that are not positions: "x1:!a", "f:!a", "f-1:!a", "f1:".
  CHECK(rejects("eDE6IWE"));
  CHECK(rejects("ZjohYQ"));
  CHECK(rejects("Zi0xOiFh"));
  CHECK(rejects("ZjE6"));
}

TEST_CASE("/versions goes up to v1.11 (authenticated media)", "[client][versions]") {
  const auto& versions = client::advertised_spec_versions();
  CHECK(versions.front() == "v1.1");
  CHECK(versions.back() == "v1.11");
  CHECK(std::find(versions.begin(), versions.end(), "v1.12") == versions.end());
}

TEST_CASE("well-known base URL", "[client][versions]") {
  CHECK(client::client_base_url("", "example.org") == "https://example.org");
  CHECK(client::client_base_url("https://matrix.example.org/", "example.org") ==
        "https://matrix.example.org/");
}
