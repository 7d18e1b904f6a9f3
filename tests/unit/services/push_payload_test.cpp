#include "services/push_payload.h"

#include <catch2/catch.hpp>

using eltrix::services::notify_body;
using eltrix::services::push_retry_delay_ms;
using eltrix::services::PushFacts;
using eltrix::services::rejected_pushkeys;
using nlohmann::json;

namespace {

PushFacts facts(json data) {
  PushFacts f;
  f.user_id = "@bob:example.org";
  f.event = {{"event_id", "$e1"},
             {"room_id", "!r:example.org"},
             {"type", "m.room.message"},
             {"sender", "@alice:example.org"},
             {"content", {{"msgtype", "m.text"}, {"body", "hi"}}}};
  f.sender_display_name = "Alice";
  f.room_name = "Garden";
  f.unread = 3;
  f.app_id = "org.example.app";
  f.pushkey = "key";
  f.pushkey_ts = 1700000000123;
  f.pusher_data = std::move(data);
  f.tweaks = {{"sound", "default"}};
  return f;
}

}  // namespace

TEST_CASE("notify body carries the event, counts and the device without its url") {
  const json body = notify_body(facts({{"url", "https://gw/_matrix/push/v1/notify"}, {"x", 1}}));
  const json& n = body.at("notification");
  CHECK(n.at("event_id") == "$e1");
  CHECK(n.at("room_id") == "!r:example.org");
  CHECK(n.at("type") == "m.room.message");
  CHECK(n.at("sender") == "@alice:example.org");
  CHECK(n.at("sender_display_name") == "Alice");
  CHECK(n.at("room_name") == "Garden");
  CHECK_FALSE(n.contains("room_alias"));
  CHECK(n.at("content").at("body") == "hi");
  CHECK(n.at("prio") == "high");
  CHECK(n.at("counts") == json{{"unread", 3}});
  const json& device = n.at("devices").at(0);
  CHECK(device.at("data") == json{{"x", 1}});
  CHECK(device.at("pushkey_ts") == 1700000000);  // seconds
  CHECK(device.at("tweaks") == json{{"sound", "default"}});
  CHECK_FALSE(n.contains("user_is_target"));
}

TEST_CASE("event_id_only sends only the IDs, counts and devices") {
  const json n = notify_body(facts({{"format", "event_id_only"}})).at("notification");
  CHECK(n.contains("event_id"));
  CHECK(n.contains("room_id"));
  CHECK(n.contains("counts"));
  CHECK(n.contains("devices"));
  for (const char* absent :
       {"content", "type", "sender", "sender_display_name", "room_name", "prio"}) {
    CHECK_FALSE(n.contains(absent));
  }
  CHECK(n.at("devices").at(0).at("data") == json{{"format", "event_id_only"}});
}

TEST_CASE("quiet notifications are low priority; member events say whether the user is target") {
  PushFacts f = facts(json::object());
  f.tweaks = json::object();
  f.event["type"] = "m.room.member";
  f.event["state_key"] = "@bob:example.org";
  const json n = notify_body(f).at("notification");
  CHECK(n.at("prio") == "low");
  CHECK(n.at("user_is_target") == true);
}

TEST_CASE("rejected pushkeys are read from a well-formed answer only") {
  CHECK(rejected_pushkeys(R"({"rejected": ["a", 5, "b"]})") == std::vector<std::string>{"a", "b"});
  CHECK(rejected_pushkeys(R"({"rejected": []})").empty());
  CHECK(rejected_pushkeys("{}").empty());
  CHECK(rejected_pushkeys("not json").empty());
  CHECK(rejected_pushkeys(R"({"rejected": "a"})").empty());
}

TEST_CASE("retry delay doubles per failure up to the cap") {
  CHECK(push_retry_delay_ms(1, 1000, 600000) == 1000);
  CHECK(push_retry_delay_ms(2, 1000, 600000) == 2000);
  CHECK(push_retry_delay_ms(5, 1000, 600000) == 16000);
  CHECK(push_retry_delay_ms(40, 1000, 600000) == 600000);
  CHECK(push_retry_delay_ms(0, 1000, 600000) == 1000);
}
