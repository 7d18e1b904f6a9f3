// NUL and the database (issue 10, findings 3 and 4): text parameters holding
// a NUL are refused before libpq could cut them, and events.sql_content is
// always text that PostgreSQL's jsonb accepts.
#include "http/error_mapping.h"
#include "rooms/event_sql_content.h"
#include "storage/database.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

using eltrix::rooms::event_sql_content;
using eltrix::rooms::without_nul;
using eltrix::storage::InvalidTextParameter;
using eltrix::storage::detail::check_text_param;
using nlohmann::json;

TEST_CASE("text parameters with a NUL are refused with 400 M_INVALID_PARAM") {
  const std::string nul("DEV\0X", 5);
  CHECK_THROWS_AS(check_text_param(nul), InvalidTextParameter);
  CHECK_THROWS_AS(check_text_param(std::string_view(nul)), InvalidTextParameter);
  CHECK_THROWS_AS(check_text_param(std::optional<std::string>(nul)), InvalidTextParameter);
  try {
    check_text_param(nul);
  } catch (const InvalidTextParameter& e) {
    CHECK(eltrix::http::status_of(e) == 400);  // mapped by the HTTP layer
    CHECK(e.errcode() == "M_INVALID_PARAM");
  }
  CHECK_NOTHROW(check_text_param(std::string("DEVX")));
  CHECK_NOTHROW(check_text_param(std::optional<std::string>()));
  CHECK_NOTHROW(check_text_param(std::int64_t{0}));
  CHECK_NOTHROW(check_text_param(true));
}

TEST_CASE("sql_content replaces NUL in strings and keys, nothing else") {
  const json content = {{std::string("k\0ey", 4), std::string("v\0", 2)},
                        {"list", {std::string("\0", 1), 5, nullptr}},
                        {"plain", "é"}};
  const json clean = without_nul(content);
  CHECK(clean["k\xEF\xBF\xBD"
              "ey"] == "v\xEF\xBF\xBD");
  CHECK(clean["list"] == json({"\xEF\xBF\xBD", 5, nullptr}));
  CHECK(clean["plain"] == "é");
  const auto text = event_sql_content("m.room.topic", true, content);
  REQUIRE(text);
  CHECK(text->find('\0') == std::string::npos);
  CHECK(text->find("\\u0000") == std::string::npos);
  CHECK(json::parse(*text) == clean);
}

TEST_CASE("sql_content keeps what SQL reads") {
  const json message = {{"msgtype", "m.text"},
                        {"body", "hi"},
                        {"m.mentions", {{"user_ids", {"@a:x"}}}},
                        {"format", "org.matrix.custom.html"}};
  CHECK(json::parse(*event_sql_content("m.room.message", false, message)) ==
        json({{"body", "hi"}, {"m.mentions", {{"user_ids", {"@a:x"}}}}}));
  CHECK_FALSE(event_sql_content("m.room.message", false, json({{"msgtype", "m.text"}})));
  CHECK_FALSE(event_sql_content("m.reaction", false, message));
  CHECK(json::parse(*event_sql_content("m.room.member", true, json({{"membership", "join"}}))) ==
        json({{"membership", "join"}}));
  CHECK_FALSE(event_sql_content("m.room.topic", true, json::array()));
}
