#include "client/devices.h"

#include "accounts/device_service.h"
#include "client/auth.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/uia.h"
#include "http/body.h"

namespace eltrix::client {
namespace {

nlohmann::json device_json(const accounts::Device& device) {
  nlohmann::json out = {{"device_id", device.device_id}};
  if (device.display_name) out["display_name"] = *device.display_name;
  if (device.last_seen_ip) out["last_seen_ip"] = *device.last_seen_ip;
  if (device.last_seen_ts) out["last_seen_ts"] = *device.last_seen_ts;
  return out;
}

/// The JSON object body of a BodyMode::raw route; an empty body counts as
/// {} (the first, probing DELETE of a user-interactive flow often has none).
nlohmann::json body_or_empty(const http::Request& req) {
  if (req.body().empty()) return nlohmann::json::object();
  nlohmann::json parsed;
  if (!http::parse_json(req.body(), parsed)) {
    throw http::MatrixError(400, "M_NOT_JSON", "Content not JSON.");
  }
  if (!parsed.is_object()) {
    throw http::MatrixError(400, "M_BAD_JSON", "Request body must be a JSON object");
  }
  return parsed;
}

/// Deletes `device_ids` of the requester once user-interactive auth is done.
http::Response delete_with_uia(Context& ctx, http::Request& req, const Requester& requester,
                               const nlohmann::json& body, const std::string& operation,
                               const std::vector<std::string>& device_ids) {
  auto uia = check_uia(ctx, body,
                       {.operation = operation,
                        .flows = {{std::string(kStagePassword)}},
                        .params = nlohmann::json::object(),
                        .user_id = requester.user_id,
                        .client_address = client_address(req)});
  if (uia.challenge) return *uia.challenge;
  ctx.devices.remove(requester.user_id, device_ids);
  finish_uia(ctx, uia.session_id);
  // Unknown IDs are not an error: the spec answers 200 for devices that
  // "had been removed previously".
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_device_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/devices", [&ctx](http::Request& req) {
    const Requester& requester = req.requester();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& device : ctx.devices.list(requester.user_id)) {
      list.push_back(device_json(device));
    }
    return http::Response::json(200, nlohmann::json{{"devices", list}});
  });

  router.add("GET", "/_matrix/client/v3/devices/{deviceId}", [&ctx](http::Request& req) {
    const Requester& requester = req.requester();
    const std::string device_id(req.path_param("deviceId"));
    return http::Response::json(200, device_json(ctx.devices.get(requester.user_id, device_id)));
  });

  router.add("PUT", "/_matrix/client/v3/devices/{deviceId}",
             [&ctx](http::Request& req) {
               const Requester& requester = req.requester();
               const std::string device_id(req.path_param("deviceId"));
               ctx.devices.rename(requester.user_id, device_id,
                                  optional_string(req.json(), "display_name"));
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});

  router.add("DELETE", "/_matrix/client/v3/devices/{deviceId}",
             [&ctx](http::Request& req) {
               const Requester& requester = req.requester();
               const std::string device_id(req.path_param("deviceId"));
               // The session is bound to this device: authenticating the deletion
               // of one device must not authorise deleting another.
               const std::string operation = "DELETE /devices/" + device_id;
               return delete_with_uia(
                   ctx, req, requester,
                   uia_request_body(ctx, body_or_empty(req), operation, requester.user_id),
                   operation, {device_id});
             },
             {.body = http::BodyMode::raw});

  router.add("POST", "/_matrix/client/v3/delete_devices",
             [&ctx](http::Request& req) {
               const Requester& requester = req.requester();
               const nlohmann::json body =
                   uia_request_body(ctx, req.json(), "POST /delete_devices", requester.user_id);
               const nlohmann::json* devices = optional_array(body, "devices");
               if (devices == nullptr) {
                 throw http::MatrixError(400, "M_MISSING_PARAM", "'devices' is required");
               }
               std::vector<std::string> device_ids;
               for (const auto& item : *devices) {
                 if (!item.is_string()) throw_bad_json("devices", "an array of strings");
                 device_ids.push_back(item.get<std::string>());
               }
               return delete_with_uia(ctx, req, requester, body, "POST /delete_devices",
                                      device_ids);
             },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
