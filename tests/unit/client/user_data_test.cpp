#include "storage/user_data.h"
#include "client/account_data.h"
#include "client/presence.h"
#include "client/profile.h"
#include "services/presence.h"

#include <catch2/catch.hpp>

using namespace eltrix;

TEST_CASE("is_mxc_uri", "[client][profile]") {
  CHECK(client::is_mxc_uri("mxc://example.org/abcDEF123"));
  CHECK(client::is_mxc_uri("mxc://127.0.0.1:8448/x"));
  CHECK_FALSE(client::is_mxc_uri("https://example.org/a.png"));
  CHECK_FALSE(client::is_mxc_uri("mxc://"));
  CHECK_FALSE(client::is_mxc_uri("mxc://example.org"));
  CHECK_FALSE(client::is_mxc_uri("mxc://example.org/"));
  CHECK_FALSE(client::is_mxc_uri("mxc:///media"));
  CHECK_FALSE(client::is_mxc_uri("mxc://example.org/a/b"));
  CHECK_FALSE(client::is_mxc_uri("mxc://example.org/a b"));
  CHECK_FALSE(client::is_mxc_uri("MXC://example.org/a"));
}

TEST_CASE("server-managed account data types", "[client][account_data]") {
  CHECK(client::is_server_managed_account_data("m.fully_read"));
  CHECK(client::is_server_managed_account_data("m.push_rules"));
  CHECK_FALSE(client::is_server_managed_account_data("m.tag"));
  CHECK_FALSE(client::is_server_managed_account_data("m.direct"));
  CHECK_NOTHROW(client::require_account_data_type("m.direct"));
  CHECK_THROWS(client::require_account_data_type(""));
  CHECK_THROWS(client::require_account_data_type(std::string(256, 'x')));
}

TEST_CASE("presence content", "[client][presence]") {
  CHECK(services::is_presence_state("online"));
  CHECK(services::is_presence_state("unavailable"));
  CHECK(services::is_presence_state("offline"));
  CHECK_FALSE(services::is_presence_state("busy"));

  storage::Presence p{"@a:x", "online", std::string("lunch"), 1000, 1000, 7, std::nullopt};
  auto content = client::presence_content(p, 1000 + 5000);
  CHECK(content == nlohmann::json{{"presence", "online"},
                                  {"last_active_ago", 5000},
                                  {"currently_active", true},
                                  {"status_msg", "lunch"}});
  content = client::presence_content(p, 1000 + client::kCurrentlyActiveMs);
  CHECK(content["currently_active"] == false);
  p.state = "unavailable";
  p.status_msg.reset();
  storage::Profile profile{std::string("Alice"), std::nullopt};
  content = client::presence_content(p, 500, &profile);  // clock behind: never negative
  CHECK(content == nlohmann::json{{"presence", "unavailable"},
                                  {"last_active_ago", 0},
                                  {"currently_active", false},
                                  {"displayname", "Alice"}});
}

TEST_CASE("text_array quotes every element", "[storage][user_data]") {
  CHECK(storage::text_array({}) == "{}");
  CHECK(storage::text_array({"!a:x"}) == R"({"!a:x"})");
  CHECK(storage::text_array({"a,b", R"(q"uo\te)", ""}) == R"({"a,b","q\"uo\\te",""})");
}
