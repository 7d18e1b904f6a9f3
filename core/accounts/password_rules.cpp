#include "accounts/password_rules.h"

#include "config/client_keys.h"
#include "config/config.h"
#include "errors/error.h"

namespace eltrix::accounts {

crypto::PasswordPolicy password_policy(const config::Config& config) {
  return crypto::PasswordPolicy{
      .min_length = static_cast<std::size_t>(config.get_int(config::keys::kPasswordMinLength, 8)),
      .require_special = config.get_bool(config::keys::kPasswordRequireSpecial, false)};
}

void require_password_policy(const crypto::PasswordPolicy& policy, std::string_view password) {
  if (auto why = crypto::check_password_policy(policy, password)) {
    throw errors::invalid("M_WEAK_PASSWORD", *why);
  }
}

}  // namespace eltrix::accounts
