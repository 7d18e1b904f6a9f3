#include "matrix/signing.h"

#include "crypto/sodium.h"
#include "matrix/base64.h"
#include "matrix/canonical_json.h"
#include "matrix/redaction.h"

#include <sodium.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>

namespace eltrix::matrix {

namespace {

constexpr std::string_view kEd25519Prefix = "ed25519:";

void check_version(const std::string& version) {
  const bool ok = !version.empty() && std::all_of(version.begin(), version.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!ok) throw std::invalid_argument("signing key version must match [a-zA-Z0-9_]+");
}

/// Removes `key` from `object` for the lifetime of the guard and puts it back
/// afterwards, also when canonicalisation throws, so callers never see a
/// half-stripped object.
class TakeOut {
 public:
  TakeOut(nlohmann::json& object, const char* key) : object_(object), key_(key) {
    if (auto it = object_.find(key_); it != object_.end()) {
      value_ = std::move(*it);
      object_.erase(it);
    }
  }
  ~TakeOut() {
    if (value_) object_[key_] = std::move(*value_);
  }
  TakeOut(const TakeOut&) = delete;
  TakeOut& operator=(const TakeOut&) = delete;

  std::optional<nlohmann::json>& value() { return value_; }

 private:
  nlohmann::json& object_;
  const char* key_;
  std::optional<nlohmann::json> value_;
};

}  // namespace

SigningKey SigningKey::generate(std::string version) {
  crypto::detail::ensure_sodium();
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  SigningKey key = from_seed(seed, std::move(version));
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey SigningKey::from_seed(std::string_view seed32_bytes, std::string version) {
  if (seed32_bytes.size() != crypto_sign_SEEDBYTES) {
    throw std::invalid_argument("an ed25519 seed is 32 bytes");
  }
  check_version(version);
  crypto::detail::ensure_sodium();
  SigningKey key;
  key.version_ = std::move(version);
  key.seed_.assign(seed32_bytes);
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_key_.data(),
                           reinterpret_cast<const unsigned char*>(key.seed_.data()));
  return key;
}

SigningKey::~SigningKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

std::string SigningKey::key_id() const {
  return std::string(kEd25519Prefix) + version_;
}

std::string SigningKey::public_key_base64() const {
  return encode_base64_unpadded(
      std::string_view(reinterpret_cast<const char*>(public_key_.data()), public_key_.size()));
}

std::string SigningKey::sign(std::string_view message) const {
  std::array<unsigned char, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_key_.data());
  return encode_base64_unpadded(
      std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
}

void SigningKey::sign_json(nlohmann::json& object, std::string_view server_name) const {
  if (!object.is_object()) throw std::invalid_argument("sign_json: not a JSON object");
  const std::string server(server_name);
  nlohmann::json signatures = nlohmann::json::object();
  if (const auto it = object.find("signatures"); it != object.end()) {
    if (!it->is_object()) throw std::invalid_argument("sign_json: 'signatures' is not an object");
    if (const auto mine = it->find(server); mine != it->end() && !mine->is_object()) {
      throw std::invalid_argument("sign_json: 'signatures' entry is not an object");
    }
    signatures = *it;
  }

  std::string signature;
  {
    TakeOut without_signatures(object, "signatures");
    TakeOut without_unsigned(object, "unsigned");
    signature = sign(canonical_json(object));
  }
  signatures[server][key_id()] = std::move(signature);
  object["signatures"] = std::move(signatures);
}

bool verify_json(const nlohmann::json& object, std::string_view server_name,
                 std::string_view key_id, std::string_view public_key_base64) {
  if (!object.is_object() || key_id.substr(0, kEd25519Prefix.size()) != kEd25519Prefix) {
    return false;
  }
  const auto signatures = object.find("signatures");
  if (signatures == object.end() || !signatures->is_object()) return false;
  const auto by_server = signatures->find(std::string(server_name));
  if (by_server == signatures->end() || !by_server->is_object()) return false;
  const auto entry = by_server->find(std::string(key_id));
  if (entry == by_server->end() || !entry->is_string()) return false;

  const auto signature = decode_base64(entry->get_ref<const std::string&>());
  const auto public_key = decode_base64(public_key_base64);
  if (!signature || signature->size() != crypto_sign_BYTES || !public_key ||
      public_key->size() != crypto_sign_PUBLICKEYBYTES) {
    return false;
  }

  nlohmann::json stripped = object;
  stripped.erase("signatures");
  stripped.erase("unsigned");
  std::string message;
  try {
    message = canonical_json(stripped);
  } catch (const std::invalid_argument&) {
    return false;
  }
  crypto::detail::ensure_sodium();
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature->data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key->data())) == 0;
}

void sign_event(nlohmann::json& event, const SigningKey& key, std::string_view server_name,
                const RoomVersion& version) {
  if (!event.is_object()) throw std::invalid_argument("sign_event: event is not a JSON object");
  const auto hashes = event.find("hashes");
  if (hashes == event.end() || !hashes->is_object() || !hashes->contains("sha256")) {
    throw std::invalid_argument("sign_event: add the content hash before signing");
  }
  nlohmann::json redacted = redact_event(event, version);
  key.sign_json(redacted, server_name);
  event["signatures"] = std::move(redacted["signatures"]);
}

}  // namespace eltrix::matrix
