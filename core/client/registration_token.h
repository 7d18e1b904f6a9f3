// m.login.registration_token: which tokens /register accepts. The tokens an
// admin manages through /_synapse/admin/v1/registration_tokens (each with
// its uses and expiry), and, as before, the one static registration.token
// from the configuration, which those supersede (it has no use count).
#pragma once

#include "client/context.h"

#include <string>

namespace eltrix::client {

/// Whether `token` is the configured static token or a managed token that
/// is still usable now (the check of the UIA stage and of
/// /register/m.login.registration_token/validity).
bool registration_token_valid(Context& ctx, const std::string& token);

/// Spends one use of a managed token (nothing for the static one). False
/// when the token cannot be used any more (another registration took its
/// last use since the stage was checked).
bool spend_registration_token(Context& ctx, const std::string& token);

/// Gives the use back after a registration that failed once it was spent.
void refund_registration_token(Context& ctx, const std::string& token);

}  // namespace eltrix::client
