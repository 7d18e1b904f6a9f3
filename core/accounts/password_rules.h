// The configured rules for new passwords (auth.password_min_length and
// auth.password_require_special).
#pragma once

#include "crypto/password.h"

#include <string_view>

namespace eltrix::config {
class Config;
}

namespace eltrix::accounts {

/// The policy of auth.password_min_length and auth.password_require_special.
crypto::PasswordPolicy password_policy(const config::Config& config);

/// Throws errors::Error invalid M_WEAK_PASSWORD (saying why) unless
/// `password` meets `policy`.
void require_password_policy(const crypto::PasswordPolicy& policy, std::string_view password);

}  // namespace eltrix::accounts
