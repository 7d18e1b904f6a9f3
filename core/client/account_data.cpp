#include "client/account_data.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "storage/database.h"
#include "storage/user_data.h"

#include <fmt/format.h>

namespace eltrix::client {

bool is_server_managed_account_data(std::string_view type) {
  return type == "m.fully_read" || type == "m.push_rules";
}

std::string require_account_data_type(std::string_view type) {
  if (type.empty() || type.size() > 255) {
    throw invalid_param("The account data type must be 1 to 255 bytes long");
  }
  return std::string(type);
}

namespace {

constexpr const char* kOthersData = "Cannot access account data of other users";

http::Response get_data(Context& ctx, const std::string& user_id, const std::string& room_id,
                        const std::string& type) {
  auto content = read_own(ctx, [&](storage::Transaction& tx) {
    return storage::get_account_data(tx, user_id, room_id, type);
  });
  if (!content) {
    throw not_found(room_id.empty() ? "Account data not found" : "Room account data not found");
  }
  return http::Response::json_text(200, *content);
}

http::Response put_data(Context& ctx, const http::Request& req, const std::string& user_id,
                        const std::string& room_id, const std::string& type) {
  if (is_server_managed_account_data(type)) {
    throw http::MatrixError(405, "M_BAD_JSON",
                            fmt::format("Cannot set {} through this API.", type));
  }
  std::string content = req.json().dump();
  ctx.db.write([&](storage::Transaction& tx) {
    storage::put_account_data(tx, user_id, room_id, type, content);
  });
  wake_user(ctx, user_id);
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_account_data_routes(http::Router& router, Context& ctx) {
  const http::RouteOptions put_options{.body = http::BodyMode::json,
                                       .max_body = kMaxAccountDataBytes};

  router.add("GET", "/_matrix/client/v3/user/{userId}/account_data/{type}",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"), kOthersData);
               return get_data(ctx, user_id, "", require_account_data_type(req.path_param("type")));
             });

  router.add(
      "PUT", "/_matrix/client/v3/user/{userId}/account_data/{type}",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        std::string user_id = require_self(who, req.path_param("userId"), kOthersData);
        return put_data(ctx, req, user_id, "", require_account_data_type(req.path_param("type")));
      },
      put_options);

  router.add("GET", "/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"), kOthersData);
               std::string room_id = require_room_id(req.path_param("roomId"));
               return get_data(ctx, user_id, room_id,
                               require_account_data_type(req.path_param("type")));
             });

  router.add(
      "PUT", "/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}",
      [&ctx](http::Request& req) {
        const Requester& who = req.requester();
        std::string user_id = require_self(who, req.path_param("userId"), kOthersData);
        std::string room_id = require_room_id(req.path_param("roomId"));
        return put_data(ctx, req, user_id, room_id,
                        require_account_data_type(req.path_param("type")));
      },
      put_options);
}

}  // namespace eltrix::client
