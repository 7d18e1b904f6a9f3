// Client config (spec: "Client Config"): GET/PUT
// /user/{userId}/account_data/{type} and
// /user/{userId}/rooms/{roomId}/account_data/{type}. Only the owner may read
// or write; every write is stamped on the shared stream and wakes the
// owner's syncs.
#pragma once

#include "http/router.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace eltrix::client {

struct Context;

/// Types the server manages (m.fully_read, m.push_rules): clients read them
/// here but set them through their own APIs; a PUT gets 405 M_BAD_JSON.
bool is_server_managed_account_data(std::string_view type);

/// The {type} path parameter: 400 M_INVALID_PARAM when empty or longer than
/// 255 bytes (the spec's limit for event types).
std::string require_account_data_type(std::string_view type);

/// Largest account data content accepted, in bytes of JSON.
inline constexpr std::size_t kMaxAccountDataBytes = 1024 * 1024;

void add_account_data_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
