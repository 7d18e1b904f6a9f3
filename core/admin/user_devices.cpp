// A user's devices (Synapse's /_synapse/admin/v2/users/{id}/devices...),
// through the device service: deleting a device revokes its tokens on every
// node at once (accounts/token_cache.h).
#include "accounts/device_service.h"
#include "admin/areas.h"
#include "admin/params.h"
#include "storage/accounts.h"

namespace eltrix::admin {
namespace {

/// Most devices one delete_devices call names (its body is bounded anyway;
/// this keeps one transaction small).
constexpr std::size_t kMaxDevicesPerDelete = 1000;

nlohmann::json device_json(const accounts::Device& device) {
  auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"device_id", device.device_id},
          {"display_name", or_null(device.display_name)},
          {"last_seen_ip", or_null(device.last_seen_ip)},
          {"last_seen_ts", or_null(device.last_seen_ts)},
          {"last_seen_user_agent", nullptr},
          {"user_id", device.user_id}};
}

/// The {userId} of a local user that exists.
std::string existing_user(Context& ctx, const http::Request& req) {
  std::string user_id = local_user_param(ctx, req);
  const bool exists =
      ctx.db.write([&](storage::Transaction& tx) { return storage::user_exists(tx, user_id); });
  if (!exists) throw not_found("User not found");
  return user_id;
}

http::Response list(Context& ctx, http::Request& req) {
  const std::string user_id = existing_user(ctx, req);
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& device : ctx.devices.list(user_id)) devices.push_back(device_json(device));
  const auto total = devices.size();
  return http::Response::json(200, nlohmann::json{{"devices", devices}, {"total", total}});
}

http::Response get(Context& ctx, http::Request& req) {
  const std::string user_id = existing_user(ctx, req);
  return http::Response::json(
      200, device_json(ctx.devices.get(user_id, std::string(req.path_param("deviceId")))));
}

http::Response rename(Context& ctx, http::Request& req) {
  const std::string user_id = existing_user(ctx, req);
  ctx.devices.rename(user_id, std::string(req.path_param("deviceId")),
                     body_string(req.json(), "display_name"));
  return http::Response::json(200, nlohmann::json::object());
}

http::Response remove(Context& ctx, http::Request& req) {
  const std::string user_id = existing_user(ctx, req);
  // An unknown device is not an error: Synapse answers 200, as the spec
  // does for devices "removed previously".
  ctx.devices.remove(user_id, {std::string(req.path_param("deviceId"))});
  return http::Response::json(200, nlohmann::json::object());
}

http::Response remove_many(Context& ctx, http::Request& req) {
  const std::string user_id = existing_user(ctx, req);
  auto it = req.json().find("devices");
  if (it == req.json().end() || !it->is_array()) {
    throw http::MatrixError(400, "M_MISSING_PARAM", "devices must be a list of device IDs");
  }
  if (it->size() > kMaxDevicesPerDelete) {
    throw invalid_param("At most " + std::to_string(kMaxDevicesPerDelete) + " devices at once");
  }
  std::vector<std::string> ids;
  for (const auto& id : *it) {
    if (!id.is_string()) throw invalid_param("devices must be a list of device IDs");
    ids.push_back(id.get<std::string>());
  }
  ctx.devices.remove(user_id, ids);
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_user_device_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  using enum http::BodyMode;
  on("GET", "/_synapse/admin/v2/users/{userId}/devices", list, none);
  on("POST", "/_synapse/admin/v2/users/{userId}/delete_devices", remove_many, json);
  on("GET", "/_synapse/admin/v2/users/{userId}/devices/{deviceId}", get, none);
  on("PUT", "/_synapse/admin/v2/users/{userId}/devices/{deviceId}", rename, json);
  on("DELETE", "/_synapse/admin/v2/users/{userId}/devices/{deviceId}", remove, none);
}

}  // namespace eltrix::admin
