// Fuzz target: sync filters (sync/filter.h): parsing a filter as
// POST /user/{userId}/filter and ?filter={...} receive it, then applying it to
// an event as /sync, /messages and /context do.
//
// Input: "<filter JSON>\0<event JSON>" (the event part is optional). A NUL
// cannot occur in JSON text, so the split is unambiguous.
// Properties:
//  - parse_filter answers with a Filter or a 400 M_BAD_JSON, nothing else;
//  - a parsed filter's limits are non-negative and its room and sender lists
//    hold only valid IDs;
//  - every match function runs on any event (any JSON, not only objects);
//  - apply_event_fields returns an object holding only fields the event has
//    (or the event unchanged when event_fields is absent);
//  - glob_match agrees with a plain dynamic-programming matcher.
#include "errors/error.h"
#include "fuzz_check.h"
#include "http/body.h"
#include "matrix/ids.h"
#include "sync/filter.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using eltrix::fuzz::as_text;
using nlohmann::json;
namespace sync = eltrix::sync;

/// Reference glob: '*' is any run of characters, everything else literal.
bool reference_glob(std::string_view pattern, std::string_view value) {
  // matches[j]: pattern[0, i) matches value[0, j).
  std::vector<char> matches(value.size() + 1, 0);
  matches[0] = 1;
  for (const char p : pattern) {
    std::vector<char> next(value.size() + 1, 0);
    if (p == '*') {
      char any = 0;
      for (std::size_t j = 0; j <= value.size(); ++j) {
        any = static_cast<char>(any | matches[j]);
        next[j] = any;
      }
    } else {
      for (std::size_t j = 1; j <= value.size(); ++j) {
        next[j] = static_cast<char>(matches[j - 1] && value[j - 1] == p);
      }
    }
    matches.swap(next);
  }
  return matches[value.size()] != 0;
}

void check_event_filter(const sync::EventFilter& f, const json& event) {
  if (f.limit) FUZZ_CHECK(*f.limit >= 0);
  FUZZ_CHECK(f.limit_or(10, 100) <= 100);
  if (f.senders) {
    for (const auto& s : *f.senders) FUZZ_CHECK(eltrix::matrix::parse_user_id(s).has_value());
  }
  for (const auto& s : f.not_senders) FUZZ_CHECK(eltrix::matrix::parse_user_id(s).has_value());
  (void)f.matches(event);
  if (event.is_object()) {
    const auto type = event.find("type");
    if (type != event.end() && type->is_string()) {
      const auto& text = type->get_ref<const std::string&>();
      if (f.types) {
        for (const auto& pattern : *f.types) {
          FUZZ_CHECK(sync::glob_match(pattern, text) == reference_glob(pattern, text));
        }
      }
      for (const auto& pattern : f.not_types) {
        FUZZ_CHECK(sync::glob_match(pattern, text) == reference_glob(pattern, text));
      }
    }
  }
}

void check_room_event_filter(const sync::RoomEventFilter& f, const json& event) {
  check_event_filter(f, event);
  if (f.rooms) {
    for (const auto& r : *f.rooms) FUZZ_CHECK(eltrix::matrix::is_valid_room_id(r));
  }
  for (const auto& r : f.not_rooms) FUZZ_CHECK(eltrix::matrix::is_valid_room_id(r));
  (void)f.matches(event);
  (void)f.matches(event, "!room:example.org");
  // An excluded room never matches, whatever the event.
  for (const auto& r : f.not_rooms) FUZZ_CHECK(!f.matches(event, r));
}

/// Every leaf of `reduced` is present in `event` at the same path.
bool is_part_of(const json& reduced, const json& event) {
  if (!reduced.is_object() || reduced == event) return reduced == event;
  if (!event.is_object()) return false;
  for (const auto& [key, value] : reduced.items()) {
    const auto it = event.find(key);
    if (it == event.end() || !is_part_of(value, *it)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  const auto nul = text.find('\0');
  json filter_json;
  if (!eltrix::http::parse_json(std::string(text.substr(0, nul)), filter_json)) return 0;
  json event = json::object();
  if (nul != std::string_view::npos) {
    json parsed;
    if (eltrix::http::parse_json(std::string(text.substr(nul + 1)), parsed)) event = parsed;
  }

  std::optional<sync::Filter> filter;
  try {
    filter = sync::parse_filter(filter_json);
  } catch (const eltrix::errors::Error& e) {
    // A domain error (D34): invalid input, which the HTTP layer answers 400.
    FUZZ_CHECK(e.kind() == eltrix::errors::Kind::invalid);
    FUZZ_CHECK(e.errcode() == "M_BAD_JSON");
    return 0;
  }
  FUZZ_CHECK(filter_json.is_object());

  check_event_filter(filter->presence, event);
  check_event_filter(filter->account_data, event);
  const auto& room = filter->room;
  if (room.rooms) {
    for (const auto& r : *room.rooms) FUZZ_CHECK(eltrix::matrix::is_valid_room_id(r));
  }
  for (const auto& r : room.not_rooms) FUZZ_CHECK(!room.matches_room(r));
  (void)room.matches_room("!room:example.org");
  check_room_event_filter(room.timeline, event);
  check_room_event_filter(room.state, event);
  check_room_event_filter(room.ephemeral, event);
  check_room_event_filter(room.account_data, event);

  const json reduced = filter->apply_event_fields(event);
  if (!filter->event_fields || !event.is_object()) {
    FUZZ_CHECK(reduced == event);
  } else {
    FUZZ_CHECK(reduced.is_object());
    FUZZ_CHECK(is_part_of(reduced, event));
  }
  for (const auto& field : filter->event_fields.value_or(std::vector<std::string>{})) {
    FUZZ_CHECK(!sync::split_property_path(field).empty());
  }
  return 0;
}
