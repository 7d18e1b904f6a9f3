#include "accounts/account_service_impl.h"

#include "accounts/password_rules.h"
#include "accounts/token_cache.h"
#include "accounts/username.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "crypto/secret.h"
#include "crypto/tokens.h"
#include "errors/error.h"
#include "log/log.h"
#include "storage/admin_users.h"
#include "storage/database.h"
#include "storage/openid_tokens.h"

namespace eltrix::accounts {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("accounts");
  return instance;
}

errors::Error user_in_use() {
  return errors::invalid("M_USER_IN_USE", "User ID already taken.");
}

errors::Error invalid_credentials() {
  // One message for an unknown user and a wrong password, so that a login
  // does not tell which accounts exist.
  return errors::forbidden("Invalid username or password");
}

std::int64_t nonce_lifetime_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(kNonceLifetime).count();
}

}  // namespace

AccountServiceImpl::AccountServiceImpl(const config::Config& config, storage::Database& db,
                                       plugin::Cache& cache)
    : db_(db),
      cache_(cache),
      server_name_(config.get_string(config::keys::kServerName)),
      policy_(password_policy(config)) {}

std::string AccountServiceImpl::localpart_for(std::string_view username) const {
  std::string localpart = to_lower_ascii(username);
  if (auto why = check_new_localpart(localpart, server_name_)) {
    throw errors::invalid("M_INVALID_USERNAME", *why);
  }
  return localpart;
}

std::string AccountServiceImpl::user_id_of(std::string_view localpart) const {
  return make_user_id(localpart, server_name_);
}

void AccountServiceImpl::require_available(const std::string& user_id) {
  if (db_.read_latest(
          [&](storage::Transaction& tx) { return storage::user_exists(tx, user_id); })) {
    throw user_in_use();
  }
}

void AccountServiceImpl::require_password_policy(std::string_view password) const {
  accounts::require_password_policy(policy_, password);
}

std::string AccountServiceImpl::create(NewAccount account) {
  require_password_policy(account.password);
  const std::string hash = crypto::hash_password(account.password);  // no transaction open
  crypto::wipe(account.password);
  for (int attempt = 0;; ++attempt) {
    const std::string localpart = account.localpart ? *account.localpart : generate_localpart();
    std::string user_id = make_user_id(localpart, server_name_);
    const bool created = db_.write([&](storage::Transaction& tx) {
      return storage::create_user(tx,
                                  {.user_id = user_id,
                                   .password_hash = hash,
                                   .admin = account.admin,
                                   .displayname = account.displayname.value_or(localpart)},
                                  storage::now_ms());
    });
    if (created) return user_id;
    // Taken (perhaps meanwhile, after require_available), or a generated
    // localpart collided, which is astronomically rare.
    if (account.localpart || attempt >= 4) throw user_in_use();
  }
}

std::optional<User> AccountServiceImpl::verify_password(const std::string& user_id,
                                                        const std::string& password) {
  // The primary: a replica could still hold a password changed a moment ago.
  auto user = db_.write([&](storage::Transaction& tx) { return storage::find_user(tx, user_id); });
  if (!user || !user->password_hash) {
    crypto::burn_verification_time(password);
    return std::nullopt;
  }
  if (!crypto::verify_password(*user->password_hash, password)) return std::nullopt;
  if (crypto::needs_rehash(*user->password_hash)) {
    try {
      const std::string upgraded = crypto::hash_password(password);
      db_.write([&](storage::Transaction& tx) {
        storage::upgrade_password_hash(tx, user_id, *user->password_hash, upgraded);
      });
    } catch (const std::exception& e) {
      // The old hash still works; try again at the next login.
      logger().warn("could not upgrade a password hash", {{"error", e.what()}});
    }
  }
  return user;
}

std::string AccountServiceImpl::check_login(const std::optional<std::string>& user_id,
                                            const std::string& password) {
  if (!user_id) {
    crypto::burn_verification_time(password);
    throw invalid_credentials();
  }
  auto user = verify_password(*user_id, password);
  if (!user) {
    logger().info("password login failed", {{"user_id", *user_id}});
    throw invalid_credentials();
  }
  // Only after the password matched: otherwise this would reveal that the
  // account exists.
  if (user->deactivated) {
    throw errors::Error(errors::Kind::forbidden, "M_USER_DEACTIVATED",
                        "This account has been deactivated");
  }
  return *user_id;
}

std::size_t AccountServiceImpl::change_password(const PasswordChange& change) {
  require_password_policy(change.new_password);
  const std::string hash = crypto::hash_password(change.new_password);  // no transaction open
  auto revoked = db_.write([&](storage::Transaction& tx) {
    storage::set_password_hash(tx, change.user_id, hash);
    std::vector<std::string> removed;
    if (change.log_out_other_devices) {
      removed = storage::delete_all_devices(tx, change.user_id, change.requesting_device);
    }
    return removed;
  });
  forget_cached_tokens(cache_, revoked);
  logger().info("password changed",
                {{"user_id", change.user_id}, {"tokens_revoked", std::to_string(revoked.size())}});
  return revoked.size();
}

std::size_t AccountServiceImpl::deactivate(const std::string& user_id, bool erase) {
  auto revoked = db_.write([&](storage::Transaction& tx) {
    if (!storage::mark_deactivated(tx, user_id, erase)) throw errors::not_found("Unknown user");
    // OpenID tokens vouch for the user to third parties: none may outlive
    // the account (the lookup also refuses deactivated users).
    storage::delete_openid_tokens(tx, user_id);
    return storage::delete_all_devices(tx, user_id);
  });
  // Tokens of deactivated users are refused by the database lookup already;
  // the cache must not keep answering for them.
  forget_cached_tokens(cache_, revoked);
  logger().info("account deactivated", {{"user_id", user_id},
                                        {"erase", erase ? "true" : "false"},
                                        {"tokens_revoked", std::to_string(revoked.size())}});
  return revoked.size();
}

void AccountServiceImpl::reactivate(const std::string& user_id) {
  db_.write([&](storage::Transaction& tx) {
    if (!storage::mark_reactivated(tx, user_id)) throw errors::not_found("Unknown user");
  });
  logger().info("account reactivated", {{"user_id", user_id}});
}

void AccountServiceImpl::set_admin(const std::string& user_id, bool admin) {
  auto hashes = db_.write([&](storage::Transaction& tx) {
    if (!storage::set_user_admin(tx, user_id, admin)) throw errors::not_found("Unknown user");
    return storage::access_token_hashes(tx, user_id);
  });
  // A cached lookup carries the admin flag: drop it (erase is relayed to
  // peers with a per-node cache), so the next request reads the database.
  for (const auto& hash : hashes) {
    try {
      cache_.erase(token_cache_key(hash));
    } catch (...) {
      logger().warn("could not drop a cached token lookup; it expires with its TTL");
    }
  }
  logger().info("admin flag changed", {{"user_id", user_id}, {"admin", admin ? "true" : "false"}});
}

std::string AccountServiceImpl::new_registration_nonce() {
  std::string nonce = crypto::generate_nonce();
  db_.write([&](storage::Transaction& tx) {
    const std::int64_t now = storage::now_ms();
    storage::expire_registration_nonces(tx, now - nonce_lifetime_ms());
    storage::store_registration_nonce(tx, nonce, now);
  });
  return nonce;
}

bool AccountServiceImpl::consume_registration_nonce(const std::string& nonce) {
  // In a transaction of its own, before anything can fail: a nonce buys
  // exactly one attempt, so a wrong MAC cannot be retried against it.
  return db_.write([&](storage::Transaction& tx) {
    return storage::consume_registration_nonce(tx, nonce, storage::now_ms() - nonce_lifetime_ms());
  });
}

}  // namespace eltrix::accounts
