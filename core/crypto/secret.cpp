#include "crypto/secret.h"

#include "crypto/sodium.h"

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>

namespace eltrix::crypto {

bool secret_equal(std::string_view a, std::string_view b) {
  detail::ensure_sodium();
  // Hashing first gives sodium_memcmp two equal-length inputs, so the time
  // taken reveals neither where the strings differ nor the secret's length.
  unsigned char da[crypto_hash_sha256_BYTES];
  unsigned char db[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(da, reinterpret_cast<const unsigned char*>(a.data()), a.size());
  crypto_hash_sha256(db, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  return sodium_memcmp(da, db, sizeof da) == 0;
}

std::string hmac_sha1_hex(std::string_view key, std::string_view message) {
  Poco::HMACEngine<Poco::SHA1Engine> hmac{std::string(key)};
  hmac.update(message.data(), static_cast<unsigned>(message.size()));
  return Poco::DigestEngine::digestToHex(hmac.digest());
}

std::string shared_secret_registration_mac(std::string_view shared_secret, std::string_view nonce,
                                           std::string_view username, std::string_view password,
                                           bool admin, std::optional<std::string_view> user_type) {
  std::string message;
  message.reserve(nonce.size() + username.size() + password.size() + 16);
  message.append(nonce).push_back('\0');
  message.append(username).push_back('\0');
  message.append(password).push_back('\0');
  message.append(admin ? "admin" : "notadmin");
  if (user_type && !user_type->empty()) message.append(1, '\0').append(*user_type);
  std::string mac = hmac_sha1_hex(shared_secret, message);
  wipe(message);  // it holds the password
  return mac;
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace eltrix::crypto
