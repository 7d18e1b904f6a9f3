// The displayname and avatar_url a user's member events carry.
#pragma once

#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <string>

namespace eltrix::rooms {

/// {displayname?, avatar_url?} from the user's profile (absent keys when unset).
nlohmann::json member_profile(storage::Transaction& tx, const std::string& user_id);

}  // namespace eltrix::rooms
