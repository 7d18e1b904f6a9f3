// The JSON Synapse's admin API gives for a user: as a row of the user list,
// and in full (GET/PUT /_synapse/admin/v2/users/{id}). Eltrix has no guests,
// user types, third-party IDs, SSO mappings, consent or locking: those
// fields carry Synapse's "none" values so that tools reading them work.
#pragma once

#include "storage/admin_users.h"

#include <nlohmann/json.hpp>

namespace eltrix::admin {

/// A row of GET /_synapse/admin/v2/users; creation_ts in milliseconds.
nlohmann::json user_list_entry(const storage::AdminUser& user);

/// GET /_synapse/admin/v2/users/{id}; creation_ts in seconds, as Synapse
/// answers there.
nlohmann::json user_details(const storage::AdminUser& user);

}  // namespace eltrix::admin
