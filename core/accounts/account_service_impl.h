// The account service (accounts/account_service.h) over PostgreSQL.
#pragma once

#include "accounts/account_service.h"
#include "crypto/password.h"

#include <eltrix/plugin/cache.h>

namespace eltrix::config {
class Config;
}
namespace eltrix::storage {
class Database;
}

namespace eltrix::accounts {

class AccountServiceImpl final : public AccountService {
 public:
  /// `cache`: the node's (guarded) cache plugin, where the token lookups a
  /// password change revokes are cached. All references must outlive the
  /// service.
  AccountServiceImpl(const config::Config& config, storage::Database& db, plugin::Cache& cache);

  [[nodiscard]] std::string localpart_for(std::string_view username) const override;
  [[nodiscard]] std::string user_id_of(std::string_view localpart) const override;
  void require_available(const std::string& user_id) override;
  void require_password_policy(std::string_view password) const override;
  std::string create(NewAccount account) override;
  std::optional<User> verify_password(const std::string& user_id,
                                      const std::string& password) override;
  std::string check_login(const std::optional<std::string>& user_id,
                          const std::string& password) override;
  std::size_t change_password(const PasswordChange& change) override;
  std::size_t deactivate(const std::string& user_id, bool erase) override;
  void reactivate(const std::string& user_id) override;
  void set_admin(const std::string& user_id, bool admin) override;
  std::string new_registration_nonce() override;
  bool consume_registration_nonce(const std::string& nonce) override;

 private:
  storage::Database& db_;
  plugin::Cache& cache_;
  const std::string server_name_;
  const crypto::PasswordPolicy policy_;
};

}  // namespace eltrix::accounts
