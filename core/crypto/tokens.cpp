#include "crypto/tokens.h"

#include "crypto/sodium.h"

#include <stdexcept>
#include <vector>

namespace eltrix::crypto {

std::string random_bytes(std::size_t count) {
  detail::ensure_sodium();
  std::string out(count, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string random_string(std::size_t length, std::string_view alphabet) {
  if (alphabet.empty()) throw std::invalid_argument("random_string: empty alphabet");
  detail::ensure_sodium();
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    // randombytes_uniform avoids the modulo bias of random % size.
    out += alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))];
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  detail::ensure_sodium();
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::vector<char> out(sodium_base64_ENCODED_LEN(bytes.size(), variant));
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  return std::string(out.data());
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4U];
    out += kDigits[b & 0x0FU];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  detail::ensure_sodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string generate_access_token() {
  return std::string(kAccessTokenPrefix) + base64url(random_bytes(32));
}

std::string generate_device_id() {
  return random_string(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
}

std::string generate_session_id() {
  return base64url(random_bytes(24));
}

std::string generate_nonce() {
  return to_hex(random_bytes(32));
}

}  // namespace eltrix::crypto
