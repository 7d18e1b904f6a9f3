// Account passwords: the policy new passwords must meet, and argon2id hashes
// (libsodium crypto_pwhash_str).
//
// Hashing is deliberately slow and memory-hungry (argon2id with libsodium's
// "interactive" limits: 2 passes over 64 MiB, about 50-100 ms on one core),
// so callers must never hold a database transaction open around it. The number
// of hashes computed at once is bounded (see kMaxConcurrentHashes) so that a
// burst of logins cannot take all the node's memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::crypto {

/// Longest password accepted, in bytes (longer ones are refused before any
/// hashing, which bounds the work one request can cause).
inline constexpr std::size_t kMaxPasswordBytes = 512;

/// What new passwords must look like (auth.password_min_length and
/// auth.password_require_special).
struct PasswordPolicy {
  std::size_t min_length = 8;    ///< in Unicode code points
  bool require_special = false;  ///< at least one character that is not an ASCII letter or digit
};

/// Why `password` does not meet `policy` (a sentence for the M_WEAK_PASSWORD
/// error), or nullopt when it does. Never includes the password.
std::optional<std::string> check_password_policy(const PasswordPolicy& policy,
                                                 std::string_view password);

/// An argon2id hash string ("$argon2id$v=19$m=65536,t=2,p=1$...") with a
/// fresh random salt. Throws std::runtime_error if libsodium fails (out of
/// memory).
std::string hash_password(std::string_view password);

/// Whether `password` matches `stored_hash` (false for a malformed hash).
/// As slow as hash_password, on purpose.
bool verify_password(std::string_view stored_hash, std::string_view password);

/// Whether `stored_hash` was made with other parameters than hash_password
/// uses now (or is not an argon2id hash), so it should be replaced after the
/// next successful login.
bool needs_rehash(std::string_view stored_hash);

/// Spends the time of one verification without checking anything: used when
/// the account does not exist, so that a failed login takes as long whether
/// or not the user exists.
void burn_verification_time(std::string_view password);

/// Hashes and verifications that may run at once in this process; further
/// callers wait. At least 2, otherwise the number of hardware threads.
std::size_t max_concurrent_hashes();

}  // namespace eltrix::crypto
