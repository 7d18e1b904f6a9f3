#include "crypto/password.h"

#include "crypto/sodium.h"

#include <fmt/format.h>

#include <algorithm>
#include <semaphore>
#include <stdexcept>
#include <thread>

namespace eltrix::crypto {
namespace {

// libsodium's "interactive" limits: its recommendation for online logins.
// Stored hashes carry their own parameters, so changing these later only
// makes needs_rehash() true for older hashes; they keep verifying.
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

std::counting_semaphore<>& hash_slots() {
  // Each hash holds kMemLimit bytes while it runs; bounding the concurrency
  // bounds that memory (and keeps request threads free for cheap requests).
  static std::counting_semaphore<> slots(static_cast<std::ptrdiff_t>(max_concurrent_hashes()));
  return slots;
}

/// Holds one hashing slot for its lifetime.
class HashSlot {
 public:
  HashSlot() { hash_slots().acquire(); }
  ~HashSlot() { hash_slots().release(); }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;
  HashSlot(HashSlot&&) = delete;
  HashSlot& operator=(HashSlot&&) = delete;
};

std::size_t code_points(std::string_view text) {
  // Counts the bytes that start a UTF-8 sequence (not 10xxxxxx).
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string hash_unbounded(std::string_view password) {
  detail::ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing failed (out of memory?)");
  }
  return std::string(out);
}

}  // namespace

std::size_t max_concurrent_hashes() {
  return std::max<std::size_t>(2, std::thread::hardware_concurrency());
}

std::optional<std::string> check_password_policy(const PasswordPolicy& policy,
                                                 std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return fmt::format("Password is too long: at most {} bytes are allowed", kMaxPasswordBytes);
  }
  if (code_points(password) < policy.min_length) {
    return fmt::format("Password is too short: at least {} characters are required",
                       policy.min_length);
  }
  // Any character other than an ASCII letter or digit counts as special
  // (punctuation, spaces, and non-ASCII characters alike).
  if (policy.require_special && std::all_of(password.begin(), password.end(), is_ascii_alnum)) {
    return std::string("Password must contain a character that is neither a letter nor a digit");
  }
  return std::nullopt;
}

std::string hash_password(std::string_view password) {
  HashSlot slot;
  return hash_unbounded(password);
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
  detail::ensure_sodium();
  // crypto_pwhash_str_verify wants a NUL-terminated string of bounded size.
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  char hash[crypto_pwhash_STRBYTES] = {};
  std::copy(stored_hash.begin(), stored_hash.end(), hash);
  HashSlot slot;
  return crypto_pwhash_str_verify(hash, password.data(), password.size()) == 0;
}

bool needs_rehash(std::string_view stored_hash) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return true;
  const std::string hash(stored_hash);
  return crypto_pwhash_str_needs_rehash(hash.c_str(), kOpsLimit, kMemLimit) != 0;
}

void burn_verification_time(std::string_view password) {
  // A real hash of a random password, made once: verifying against it costs
  // exactly what verifying a real account's password costs.
  static const std::string dummy = [] {
    detail::ensure_sodium();
    unsigned char random[16];
    randombytes_buf(random, sizeof random);
    return hash_unbounded(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
  }();
  (void)verify_password(dummy, password);
}

}  // namespace eltrix::crypto
