#include "crypto/secret.h"

#include "crypto/sodium.h"

#include <algorithm>

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

namespace {

struct SealKey {
  unsigned char bytes[crypto_secretbox_KEYBYTES];
  SealKey(std::string_view secret, std::string_view purpose) {
    detail::ensure_sodium();
    // BLAKE2b keyed with the purpose over the secret: one server secret
    // gives unrelated keys for unrelated uses.
    std::string label(purpose);
    label.resize(std::max<std::size_t>(label.size(), crypto_generichash_KEYBYTES_MIN), '\0');
    label.resize(std::min<std::size_t>(label.size(), crypto_generichash_KEYBYTES_MAX));
    crypto_generichash(bytes, sizeof bytes, reinterpret_cast<const unsigned char*>(secret.data()),
                       secret.size(), reinterpret_cast<const unsigned char*>(label.data()),
                       label.size());
  }
  ~SealKey() { sodium_memzero(bytes, sizeof bytes); }
  SealKey(const SealKey&) = delete;
  SealKey& operator=(const SealKey&) = delete;
};

}  // namespace

std::string seal(std::string_view secret, std::string_view purpose, std::string_view plaintext) {
  const SealKey key(secret, purpose);
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key.bytes);
  return out;
}

std::optional<std::string> open_sealed(std::string_view secret, std::string_view purpose,
                                       std::string_view sealed) {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const SealKey key(secret, purpose);
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t cipher_size = sealed.size() - crypto_secretbox_NONCEBYTES;
  std::string plain(cipher_size - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 nonce + crypto_secretbox_NONCEBYTES, cipher_size, nonce,
                                 key.bytes) != 0) {
    return std::nullopt;
  }
  return plain;
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
