// Pushers (migration 0022): where a user's devices want notifications
// pushed. Every function runs inside the caller's transaction.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::storage {

struct Pusher {
  std::string user_id;
  std::string device_id;  ///< the device whose token set it
  std::string app_id;
  std::string pushkey;
  std::string kind;  ///< "http" or "email"
  std::string app_display_name;
  std::string device_display_name;
  std::optional<std::string> profile_tag;
  std::string lang;
  std::string data;  ///< a JSON object's text
};

/// The user's pushers, oldest first.
std::vector<Pusher> list_pushers(Transaction& tx, const std::string& user_id);

/// How many pushers the user has.
std::int64_t count_pushers(Transaction& tx, const std::string& user_id);

/// Creates the pusher, or replaces the user's pusher with the same app_id
/// and pushkey. Unless `append`, the same app_id and pushkey is removed from
/// every other user (spec: a pushkey names one device of one app, which
/// has moved to this user).
void put_pusher(Transaction& tx, const Pusher& pusher, bool append, std::int64_t now_ms);

/// Whether the user had that pusher.
bool delete_pusher(Transaction& tx, const std::string& user_id, const std::string& app_id,
                   const std::string& pushkey);

}  // namespace eltrix::storage
