#include "sync/filter.h"

#include "errors/error.h"
#include "matrix/ids.h"
#include "matrix/json_text.h"
#include "storage/database.h"
#include "storage/user_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace eltrix::sync {

using nlohmann::json;

bool glob_match(std::string_view pattern, std::string_view value) {
  // Greedy matching with one backtrack point (the last '*'): linear in
  // practice and never recursive, so a hostile pattern cannot blow the stack.
  std::size_t p = 0;
  std::size_t v = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.size() && pattern[p] == value[v]) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool any_glob(const std::vector<std::string>& patterns, std::string_view value) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return glob_match(pattern, value); });
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::optional<std::string_view> string_member(const json& event, const char* key) {
  if (!event.is_object()) return std::nullopt;
  auto it = event.find(key);
  if (it == event.end() || !it->is_string()) return std::nullopt;
  return std::string_view(it->get_ref<const std::string&>());
}

}  // namespace

bool EventFilter::matches_type(std::string_view type) const {
  // not_types wins over types (spec: "A matching type will be excluded even
  // if it is listed in the 'types' filter").
  if (any_glob(not_types, type)) return false;
  return !types || any_glob(*types, type);
}

bool EventFilter::matches_sender(const std::optional<std::string_view>& sender) const {
  if (!sender) return true;
  if (contains(not_senders, *sender)) return false;
  return !senders || contains(*senders, *sender);
}

bool EventFilter::matches(const json& event) const {
  auto type = string_member(event, "type");
  return matches_type(type.value_or("")) && matches_sender(string_member(event, "sender"));
}

std::size_t EventFilter::limit_or(std::size_t fallback, std::size_t max) const {
  if (!limit) return std::min(fallback, max);
  return std::min(static_cast<std::size_t>(*limit), max);
}

bool RoomEventFilter::matches_room(std::string_view room_id) const {
  if (contains(not_rooms, room_id)) return false;
  return !rooms || contains(*rooms, room_id);
}

bool RoomEventFilter::matches(const json& event) const {
  if (auto room = string_member(event, "room_id"); room && !matches_room(*room)) return false;
  if (!EventFilter::matches(event)) return false;
  if (contains_url) {
    bool has_url = false;
    if (event.is_object()) {
      auto content = event.find("content");
      if (content != event.end() && content->is_object()) {
        auto url = content->find("url");
        // Only a string counts, as a "url" of another type is not a media link.
        has_url = url != content->end() && url->is_string();
      }
    }
    if (has_url != *contains_url) return false;
  }
  return true;
}

bool RoomEventFilter::matches(const json& event, std::string_view room_id) const {
  return matches_room(room_id) && matches(event);
}

bool RoomFilter::matches_room(std::string_view room_id) const {
  if (contains(not_rooms, room_id)) return false;
  return !rooms || contains(*rooms, room_id);
}

std::vector<std::string> split_property_path(std::string_view path) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\' && i + 1 < path.size() && (path[i + 1] == '.' || path[i + 1] == '\\')) {
      parts.back() += path[++i];
    } else if (c == '.') {
      parts.emplace_back();
    } else {
      // Other escapes stay as they are (spec: "\x" is a backslash and 'x').
      parts.back() += c;
    }
  }
  return parts;
}

json Filter::apply_event_fields(const json& event) const {
  if (!event_fields || !event.is_object()) return event;
  json out = json::object();
  for (const auto& field : *event_fields) {
    auto parts = split_property_path(field);
    const json* source = &event;
    bool found = true;
    for (const auto& part : parts) {
      if (!source->is_object()) {
        found = false;
        break;
      }
      auto it = source->find(part);
      if (it == source->end()) {
        found = false;
        break;
      }
      source = &*it;
    }
    if (!found) continue;
    json* target = &out;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      json& next = (*target)[parts[i]];
      // A shorter path asked for earlier already copied the whole object.
      if (!next.is_object()) next = json::object();
      target = &next;
    }
    (*target)[parts.back()] = *source;
  }
  return out;
}

// ---- parsing -------------------------------------------------------------------

namespace {

[[noreturn]] void bad(const std::string& path, std::string_view expected) {
  throw errors::invalid("M_BAD_JSON", fmt::format("filter field '{}' must be {}", path, expected));
}

std::string join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
}

/// obj[key], or null when absent or null (null reads as "not given": clients
/// serialise unset optional members that way).
const json* member(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

enum class IdKind { any, room, user };

std::optional<std::vector<std::string>> string_list(const json& obj, std::string_view key,
                                                    const std::string& prefix,
                                                    IdKind kind = IdKind::any) {
  const json* value = member(obj, key);
  if (value == nullptr) return std::nullopt;
  std::string path = join(prefix, key);
  if (!value->is_array()) bad(path, "an array of strings");
  std::vector<std::string> out;
  out.reserve(value->size());
  for (const auto& item : *value) {
    if (!item.is_string()) bad(path, "an array of strings");
    const auto& text = item.get_ref<const std::string&>();
    // Filter strings reach SQL parameters, which cannot carry a NUL (the
    // storage layer would refuse the whole sync): refuse the filter instead.
    if (text.find('\0') != std::string::npos) bad(path, "an array of strings without NUL");
    if (kind == IdKind::room && !matrix::is_valid_room_id(text)) {
      bad(path, "an array of room IDs");
    }
    if (kind == IdKind::user && !matrix::parse_user_id(text)) {
      bad(path, "an array of user IDs");
    }
    out.push_back(text);
  }
  return out;
}

std::optional<bool> boolean(const json& obj, std::string_view key, const std::string& prefix) {
  const json* value = member(obj, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) bad(join(prefix, key), "a boolean");
  return value->get<bool>();
}

const json& object_at(const json& obj, std::string_view key, const std::string& prefix) {
  static const json kEmpty = json::object();
  const json* value = member(obj, key);
  if (value == nullptr) return kEmpty;
  if (!value->is_object()) bad(join(prefix, key), "an object");
  return *value;
}

void parse_event_filter(const json& obj, const std::string& prefix, EventFilter& out) {
  if (const json* limit = member(obj, "limit")) {
    // The spec says "greater than 0"; 0 is tolerated (as Synapse does) and
    // simply returns no events.
    if (!limit->is_number_integer()) bad(join(prefix, "limit"), "a non-negative integer");
    if (limit->is_number_unsigned()) {
      out.limit = static_cast<std::int64_t>(
          std::min<std::uint64_t>(limit->get<std::uint64_t>(), INT64_MAX));
    } else {
      out.limit = limit->get<std::int64_t>();
      if (*out.limit < 0) bad(join(prefix, "limit"), "a non-negative integer");
    }
  }
  out.types = string_list(obj, "types", prefix);
  out.not_types = string_list(obj, "not_types", prefix).value_or(std::vector<std::string>{});
  out.senders = string_list(obj, "senders", prefix, IdKind::user);
  out.not_senders =
      string_list(obj, "not_senders", prefix, IdKind::user).value_or(std::vector<std::string>{});
}

void parse_room_event_filter(const json& obj, const std::string& prefix, RoomEventFilter& out) {
  parse_event_filter(obj, prefix, out);
  out.rooms = string_list(obj, "rooms", prefix, IdKind::room);
  out.not_rooms =
      string_list(obj, "not_rooms", prefix, IdKind::room).value_or(std::vector<std::string>{});
  out.contains_url = boolean(obj, "contains_url", prefix);
  out.lazy_load_members = boolean(obj, "lazy_load_members", prefix).value_or(false);
  out.include_redundant_members = boolean(obj, "include_redundant_members", prefix).value_or(false);
  out.unread_thread_notifications =
      boolean(obj, "unread_thread_notifications", prefix).value_or(false);
}

}  // namespace

Filter parse_filter(const json& filter) {
  if (!filter.is_object()) bad("filter", "an object");
  Filter out;
  out.event_fields = string_list(filter, "event_fields", "");
  if (const json* format = member(filter, "event_format")) {
    if (!format->is_string()) bad("event_format", "\"client\" or \"federation\"");
    const auto& text = format->get_ref<const std::string&>();
    if (text == "client") {
      out.event_format = EventFormat::client;
    } else if (text == "federation") {
      out.event_format = EventFormat::federation;
    } else {
      bad("event_format", "\"client\" or \"federation\"");
    }
  }
  parse_event_filter(object_at(filter, "presence", ""), "presence", out.presence);
  parse_event_filter(object_at(filter, "account_data", ""), "account_data", out.account_data);

  const json& room = object_at(filter, "room", "");
  out.room.rooms = string_list(room, "rooms", "room", IdKind::room);
  out.room.not_rooms =
      string_list(room, "not_rooms", "room", IdKind::room).value_or(std::vector<std::string>{});
  out.room.include_leave = boolean(room, "include_leave", "room").value_or(false);
  parse_room_event_filter(object_at(room, "timeline", "room"), "room.timeline", out.room.timeline);
  parse_room_event_filter(object_at(room, "state", "room"), "room.state", out.room.state);
  parse_room_event_filter(object_at(room, "ephemeral", "room"), "room.ephemeral",
                          out.room.ephemeral);
  parse_room_event_filter(object_at(room, "account_data", "room"), "room.account_data",
                          out.room.account_data);
  return out;
}

std::optional<Filter> load_filter(storage::Database& db, const std::string& user_id,
                                  const std::optional<std::string>& param) {
  if (!param || param->empty()) return std::nullopt;
  if (param->front() == '{') {
    json inline_filter;
    // parse_json bounds the nesting depth: the parameter is untrusted input.
    if (!matrix::parse_json(*param, inline_filter)) {
      throw errors::invalid("M_NOT_JSON", "the filter parameter is not valid JSON");
    }
    return parse_filter(inline_filter);
  }
  std::int64_t filter_id = 0;
  const char* end = param->data() + param->size();
  auto [ptr, ec] = std::from_chars(param->data(), end, filter_id);
  if (ec != std::errc() || ptr != end || filter_id < 0) {
    throw errors::invalid("M_INVALID_PARAM", "No such filter");
  }
  auto lookup = [&](storage::Transaction& tx) {
    return storage::find_filter(tx, user_id, filter_id);
  };
  auto text = db.read(lookup);
  // The upload may not have reached the replica yet; filters never change,
  // so only a miss needs the primary.
  if (!text) text = db.write(lookup);
  if (!text) throw errors::invalid("M_INVALID_PARAM", "No such filter");
  json stored;
  if (!matrix::parse_json(*text, stored)) {
    throw errors::internal("stored filter is corrupt");
  }
  return parse_filter(stored);
}

}  // namespace eltrix::sync
