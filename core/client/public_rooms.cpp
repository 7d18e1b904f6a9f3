#include "client/public_rooms.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "storage/database.h"
#include "storage/directory.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <fmt/format.h>

#include <charconv>
#include <sstream>

namespace eltrix::client {

namespace {

using Position = storage::PublicRoomsQuery::Position;

// Longest search term accepted: enough for any name or topic fragment, and
// it keeps the per-room substring tests cheap.
constexpr std::size_t kMaxSearchTermBytes = 512;
// Most entries in filter.room_types (the spec defines a handful of types).
constexpr std::size_t kMaxRoomTypes = 50;
// Longest pagination token accepted (a count and a room ID of <= 255 bytes).
constexpr std::size_t kMaxTokenBytes = 512;

}  // namespace

// A token is "f" or "b", the joined member count, ':' and the room ID.
std::string encode_public_rooms_token(const Position& position) {
  std::ostringstream out;
  {
    Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    encoder.rdbuf()->setLineLength(0);
    encoder << (position.forward ? 'f' : 'b') << position.joined_members << ':' << position.room_id;
    encoder.close();
  }
  return out.str();
}

Position decode_public_rooms_token(const std::string& token) {
  auto invalid = [] { return invalid_param("Invalid pagination token ('since')"); };
  if (token.empty() || token.size() > kMaxTokenBytes) throw invalid();
  std::string text;
  try {
    std::istringstream in(token);
    Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    text.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    throw invalid();
  }
  Position position;
  if (text.empty() || (text[0] != 'f' && text[0] != 'b')) throw invalid();
  position.forward = text[0] == 'f';
  const auto colon = text.find(':', 1);
  if (colon == std::string::npos) throw invalid();
  const char* first = text.data() + 1;
  const char* last = text.data() + colon;
  auto [end, ec] = std::from_chars(first, last, position.joined_members);
  if (ec != std::errc() || end != last || position.joined_members < 0) throw invalid();
  position.room_id = text.substr(colon + 1);
  if (position.room_id.empty()) throw invalid();
  return position;
}

namespace {

/// A requested limit: absent or 0 (which some clients send for "no
/// preference") is the default, anything above the maximum is capped.
std::size_t page_limit(std::optional<std::int64_t> requested) {
  if (!requested || *requested == 0) return kPublicRoomsDefaultLimit;
  if (*requested < 0) throw invalid_param("'limit' must not be negative");
  return std::min(static_cast<std::size_t>(*requested), kPublicRoomsMaxLimit);
}

/// ?server= names whose directory to list; only our own is served.
void check_server(const Context& ctx, const http::Request& req) {
  auto server = req.query("server");
  if (server && *server != ctx.server_name) {
    // Listing another server's directory needs federation, which this server
    // does not speak yet.
    throw invalid_param(fmt::format("Can only list the rooms of {}", ctx.server_name));
  }
}

nlohmann::json chunk_entry(const storage::PublicRoom& room) {
  nlohmann::json entry = {
      {"room_id", room.room_id},
      {"num_joined_members", room.joined_members},
      {"world_readable", room.world_readable},
      {"guest_can_join", room.guest_can_join},
  };
  // Optional fields are left out rather than sent empty, as the schema
  // describes them ("if any").
  auto put = [&entry](const char* key, const std::optional<std::string>& value) {
    if (value && !value->empty()) entry[key] = *value;
  };
  put("name", room.name);
  put("topic", room.topic);
  put("canonical_alias", room.canonical_alias);
  put("avatar_url", room.avatar_url);
  put("join_rule", room.join_rule);
  put("room_type", room.room_type);
  return entry;
}

http::Response list(Context& ctx, const storage::PublicRoomsQuery& query) {
  // Directory listings tolerate a replica's lag (they are shared, not the
  // reader's own writes), so they take load off the primary.
  auto page =
      ctx.db.read([&](storage::Transaction& tx) { return storage::list_public_rooms(tx, query); });
  nlohmann::json body;
  body["chunk"] = nlohmann::json::array();
  for (const auto& room : page.rooms) body["chunk"].push_back(chunk_entry(room));
  if (page.more_after) {
    const Position edge =
        page.rooms.empty()
            ? Position{true, query.since->joined_members, query.since->room_id}
            : Position{true, page.rooms.back().joined_members, page.rooms.back().room_id};
    body["next_batch"] = encode_public_rooms_token(edge);
  }
  if (page.more_before) {
    const Position edge =
        page.rooms.empty()
            ? Position{false, query.since->joined_members, query.since->room_id}
            : Position{false, page.rooms.front().joined_members, page.rooms.front().room_id};
    body["prev_batch"] = encode_public_rooms_token(edge);
  }
  if (page.total) body["total_room_count_estimate"] = *page.total;
  return http::Response::json(200, body);
}

http::Response get_public_rooms(Context& ctx, http::Request& req) {
  // No access token: v1.11 lets anyone read the directory with GET.
  check_server(ctx, req);
  storage::PublicRoomsQuery query;
  std::optional<std::int64_t> limit;
  if (auto text = req.query("limit"); text && !text->empty()) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) {
      throw invalid_param("'limit' must be an integer");
    }
    limit = value;
  }
  query.limit = page_limit(limit);
  if (auto since = req.query("since"); since && !since->empty())
    query.since = decode_public_rooms_token(*since);
  return list(ctx, query);
}

http::Response post_public_rooms(Context& ctx, http::Request& req) {
  check_server(ctx, req);
  const auto& body = req.json();
  storage::PublicRoomsQuery query;
  query.limit = page_limit(optional_int(body, "limit"));
  if (auto since = optional_string(body, "since"); since && !since->empty()) {
    query.since = decode_public_rooms_token(*since);
  }

  // No application services bridge third-party networks here, so there is
  // nothing beyond the local directory: all networks are the local one, and
  // a specific third-party network lists no rooms.
  const bool all_networks = optional_bool(body, "include_all_networks").value_or(false);
  const auto instance = optional_string(body, "third_party_instance_id");
  if (instance && all_networks) {
    throw invalid_param("'third_party_instance_id' cannot be used with 'include_all_networks'");
  }
  if (instance) {
    return http::Response::json(
        200, nlohmann::json{{"chunk", nlohmann::json::array()}, {"total_room_count_estimate", 0}});
  }

  if (const auto* filter = optional_object(body, "filter")) {
    if (auto term = optional_string(*filter, "generic_search_term")) {
      if (term->size() > kMaxSearchTermBytes) {
        throw invalid_param(
            fmt::format("'generic_search_term' is longer than {} bytes", kMaxSearchTermBytes));
      }
      query.search_term = *term;
    }
    if (const auto* types = optional_array(*filter, "room_types")) {
      if (types->size() > kMaxRoomTypes) {
        throw invalid_param(fmt::format("'room_types' has more than {} entries", kMaxRoomTypes));
      }
      query.room_types.emplace();
      for (const auto& type : *types) {
        if (type.is_null()) {
          query.room_types->emplace_back(std::nullopt);
        } else if (type.is_string()) {
          query.room_types->emplace_back(type.get<std::string>());
        } else {
          throw_bad_json("filter.room_types", "an array of strings and nulls");
        }
      }
    }
  }
  return list(ctx, query);
}

}  // namespace

void add_public_rooms_routes(http::Router& router, Context& ctx) {
  const std::string path = "/_matrix/client/v3/publicRooms";
  router.add("GET", path, [&ctx](http::Request& req) { return get_public_rooms(ctx, req); },
             {.auth = http::Auth::none});
  router.add("POST", path, [&ctx](http::Request& req) { return post_public_rooms(ctx, req); },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
