// Local accounts (spec: "Account registration and management"): which
// usernames a new account may take, creating accounts, checking and changing
// passwords, and the nonces of shared-secret registration. Passwords are
// argon2id hashes (crypto/password.h), always computed outside a database
// transaction. Shared by every API (services/services.h); failures are
// errors::Error.
#pragma once

#include "storage/accounts.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::accounts {

using User = storage::User;

/// How long a shared-secret registration nonce stays usable.
inline constexpr std::chrono::seconds kNonceLifetime{60};

struct NewAccount {
  /// From localpart_for; none: a random one (registration without a username).
  std::optional<std::string> localpart = std::nullopt;
  std::string password;
  bool admin = false;
  /// None: the localpart.
  std::optional<std::string> displayname = std::nullopt;
};

struct PasswordChange {
  std::string user_id;
  std::string new_password;
  /// Whether the user's other devices are logged out (deleted with their
  /// tokens). The device making the change keeps its token: the spec says it
  /// SHOULD NOT be revoked.
  bool log_out_other_devices = true;
  std::string requesting_device = {};
};

class AccountService {
 public:
  virtual ~AccountService() = default;

  /// The localpart a requested username maps to: lower-cased (user IDs have
  /// no upper case), then checked against the grammar. Throws invalid
  /// M_INVALID_USERNAME.
  [[nodiscard]] virtual std::string localpart_for(std::string_view username) const = 0;

  /// "@localpart:server_name".
  [[nodiscard]] virtual std::string user_id_of(std::string_view localpart) const = 0;

  /// Throws invalid M_USER_IN_USE when the user ID is taken. Read on the
  /// primary: a user registered a moment ago through another node may not be
  /// on a replica yet.
  virtual void require_available(const std::string& user_id) = 0;

  /// Throws invalid M_WEAK_PASSWORD (saying why) unless the password meets
  /// the configured policy.
  virtual void require_password_policy(std::string_view password) const = 0;

  /// Creates the account and returns its user ID. Checks the password policy
  /// first. Throws invalid M_USER_IN_USE when the localpart is taken (a
  /// generated one is retried).
  virtual std::string create(NewAccount account) = 0;

  /// The user when `password` is theirs (deactivated users included: callers
  /// decide), nullopt otherwise, after the same time either way. Upgrades a
  /// hash made with older parameters.
  virtual std::optional<User> verify_password(const std::string& user_id,
                                              const std::string& password) = 0;

  /// A password login: returns the user ID when the password matches an
  /// active account. Throws forbidden M_FORBIDDEN "Invalid username or
  /// password" for an unknown user (none: the identifier named no local
  /// user) or a wrong password, alike, so that logins do not tell which
  /// accounts exist; forbidden M_USER_DEACTIVATED, only once the password
  /// matched, for a deactivated account.
  virtual std::string check_login(const std::optional<std::string>& user_id,
                                  const std::string& password) = 0;

  /// Sets a new password (checked against the policy) and, if asked, logs
  /// the other devices out, in one transaction. Returns how many access
  /// tokens were revoked.
  virtual std::size_t change_password(const PasswordChange& change) = 0;

  /// Deactivates the account (admin API): marks it, removes its password
  /// (a reactivation sets a new one) and deletes every device with its
  /// tokens, which the token cache forgets at once; with `erase`, the
  /// profile goes too. Leaving rooms is the caller's (the room service's).
  /// Returns how many tokens were revoked; throws not_found for an unknown
  /// user.
  virtual std::size_t deactivate(const std::string& user_id, bool erase) = 0;

  /// Clears the deactivated (and erased) flags; the caller sets a password.
  /// Throws not_found for an unknown user.
  virtual void reactivate(const std::string& user_id) = 0;

  /// Makes the user a server admin or not. The cached lookups of the user's
  /// tokens are dropped (on every node), so the next request sees the
  /// change. Throws not_found for an unknown user.
  virtual void set_admin(const std::string& user_id, bool admin) = 0;

  /// A fresh nonce for shared-secret registration, good for kNonceLifetime.
  virtual std::string new_registration_nonce() = 0;

  /// Uses the nonce up; whether it existed and was still fresh. A nonce buys
  /// one attempt, whatever happens next.
  virtual bool consume_registration_nonce(const std::string& nonce) = 0;
};

}  // namespace eltrix::accounts
