#include "client/pushers.h"

#include "client/context.h"
#include "client/json_body.h"
#include "client/user_data_common.h"
#include "storage/pushers.h"

#include <fmt/format.h>

#include <algorithm>

namespace eltrix::client {
namespace {

using json = nlohmann::json;

/// The spec's limits: pushkey 512 bytes, app_id 64 characters, profile_tag
/// 32; the others are display strings we bound alike.
constexpr std::size_t kMaxPushkeyBytes = 512;
constexpr std::size_t kMaxAppIdBytes = 64;
constexpr std::size_t kMaxProfileTagBytes = 32;
constexpr std::size_t kMaxDisplayBytes = 256;
/// data is copied into every push for the device: keep it small.
constexpr std::size_t kMaxDataBytes = 4096;
constexpr std::size_t kMaxBodyBytes = 16 * 1024;
constexpr std::string_view kNotifyPath = "/_matrix/push/v1/notify";

std::string bounded(const json& body, std::string_view field, std::size_t max) {
  std::string value = require_string(body, field);
  if (value.empty() || value.size() > max) {
    throw invalid_param(fmt::format("'{}' must be 1 to {} bytes long", field, max));
  }
  return value;
}

/// An http pusher's data.url: the push gateway's notify endpoint. The spec
/// asks for HTTPS; like Synapse we also take http, for gateways on a
/// private network and for tests.
void check_gateway_url(const json& data) {
  const auto url = data.find("url");
  if (url == data.end()) {
    throw http::MatrixError(400, "M_MISSING_PARAM", "'data.url' is required for an http pusher");
  }
  if (!url->is_string()) throw_bad_json("data.url", "a string");
  const std::string& text = url->get_ref<const std::string&>();
  const auto scheme_end = text.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : text.substr(0, scheme_end);
  const auto path_start =
      scheme_end == std::string::npos ? std::string::npos : text.find('/', scheme_end + 3);
  const bool host_ok = path_start != std::string::npos && path_start > scheme_end + 3;
  const std::string path = host_ok ? text.substr(path_start) : "";
  if ((scheme != "https" && scheme != "http") || !host_ok || path != kNotifyPath) {
    throw invalid_param(
        fmt::format("'data.url' must be an http(s) URL whose path is {} (the push gateway's notify "
                    "endpoint)",
                    kNotifyPath));
  }
}

/// Whether any key or string in `value` holds a NUL: PostgreSQL's jsonb
/// cannot store one, and the data is sent on to the gateway as it is.
bool holds_nul(const json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (key.find('\0') != std::string::npos || holds_nul(item)) return true;
    }
  }
  if (value.is_array()) {
    for (const auto& item : value) {
      if (holds_nul(item)) return true;
    }
  }
  return false;
}

json pusher_json(const storage::Pusher& p) {
  json out = {{"pushkey", p.pushkey},
              {"kind", p.kind},
              {"app_id", p.app_id},
              {"app_display_name", p.app_display_name},
              {"device_display_name", p.device_display_name},
              {"lang", p.lang},
              {"data", json::parse(p.data, nullptr, false)}};
  if (p.profile_tag) out["profile_tag"] = *p.profile_tag;
  return out;
}

http::Response set_pusher(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const json& body = req.json();
  storage::Pusher pusher;
  pusher.user_id = who.user_id;
  pusher.device_id = who.device_id;
  pusher.pushkey = bounded(body, "pushkey", kMaxPushkeyBytes);
  pusher.app_id = bounded(body, "app_id", kMaxAppIdBytes);
  const auto kind = body.find("kind");
  if (kind == body.end()) throw http::MatrixError(400, "M_MISSING_PARAM", "'kind' is required");
  if (kind->is_null()) {
    // kind null deletes the pusher (spec); deleting one that is not there
    // is not an error.
    ctx.db.write([&](storage::Transaction& tx) {
      storage::delete_pusher(tx, who.user_id, pusher.app_id, pusher.pushkey);
    });
    return http::Response::json(200, json::object());
  }
  if (!kind->is_string()) throw_bad_json("kind", "a string or null");
  pusher.kind = kind->get<std::string>();
  pusher.app_display_name = bounded(body, "app_display_name", kMaxDisplayBytes);
  pusher.device_display_name = bounded(body, "device_display_name", kMaxDisplayBytes);
  pusher.lang = bounded(body, "lang", kMaxDisplayBytes);
  if (auto tag = optional_string(body, "profile_tag")) {
    if (tag->size() > kMaxProfileTagBytes) {
      throw invalid_param(fmt::format("'profile_tag' is at most {} bytes", kMaxProfileTagBytes));
    }
    pusher.profile_tag = std::move(*tag);
  }
  const json* data = optional_object(body, "data");
  if (data == nullptr) throw http::MatrixError(400, "M_MISSING_PARAM", "'data' is required");
  if (data->contains("format") && !(*data)["format"].is_string()) {
    throw_bad_json("data.format", "a string");
  }
  if (holds_nul(*data)) throw bad_json("'data' may not contain NUL characters");
  pusher.data = data->dump();
  if (pusher.data.size() > kMaxDataBytes) {
    throw invalid_param(fmt::format("'data' is at most {} bytes", kMaxDataBytes));
  }
  if (pusher.kind == "http") {
    check_gateway_url(*data);
  } else if (pusher.kind == "email") {
    // An email pusher must name one of the account's verified addresses
    // (Synapse: 400 M_THREEPID_NOT_FOUND); accounts have none until email
    // 3PIDs exist (issue 16 item 16).
    throw http::MatrixError(400, "M_THREEPID_NOT_FOUND",
                            "The pushkey is not an email address of this account");
  } else {
    throw invalid_param("'kind' must be http, email or null");
  }
  const bool append = optional_bool(body, "append").value_or(false);
  ctx.db.write([&](storage::Transaction& tx) {
    const bool exists =
        std::ranges::any_of(storage::list_pushers(tx, who.user_id), [&](const storage::Pusher& p) {
          return p.app_id == pusher.app_id && p.pushkey == pusher.pushkey;
        });
    if (!exists && storage::count_pushers(tx, who.user_id) >= kMaxPushersPerUser) {
      throw http::MatrixError(400, "M_LIMIT_EXCEEDED",
                              fmt::format("At most {} pushers per user", kMaxPushersPerUser));
    }
    storage::put_pusher(tx, pusher, append, now_ms());
  });
  return http::Response::json(200, json::object());
}

}  // namespace

void add_pusher_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/pushers", [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    auto pushers = read_own(
        ctx, [&](storage::Transaction& tx) { return storage::list_pushers(tx, who.user_id); });
    json out = json::array();
    for (const auto& p : pushers) out.push_back(pusher_json(p));
    return http::Response::json(200, json{{"pushers", std::move(out)}});
  });
  router.add("POST", "/_matrix/client/v3/pushers/set",
             [&ctx](http::Request& req) { return set_pusher(ctx, req); },
             {.body = http::BodyMode::json, .max_body = kMaxBodyBytes});
}

}  // namespace eltrix::client
