// Ed25519 signing of JSON objects and events (Matrix spec, appendices,
// "Signing JSON"; server-server API, "Signing events").
#pragma once

#include "matrix/room_version.h"

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <string_view>

namespace eltrix::matrix {

/// A server's Ed25519 signing key. Deliberately not printable (no operator<<,
/// no formatter) so the secret cannot end up in a log by accident; the secret
/// parts are wiped when the object is destroyed.
class SigningKey {
 public:
  /// A new random key. `version` is the part of the key ID after "ed25519:";
  /// it must be non-empty and match [a-zA-Z0-9_] (std::invalid_argument if not).
  static SigningKey generate(std::string version);
  /// The key derived from a 32-byte Ed25519 seed (as persisted via seed()).
  /// Throws std::invalid_argument for a seed of another size or a bad version.
  static SigningKey from_seed(std::string_view seed32_bytes, std::string version);

  SigningKey(const SigningKey&) = default;
  SigningKey(SigningKey&&) noexcept = default;
  SigningKey& operator=(const SigningKey&) = default;
  SigningKey& operator=(SigningKey&&) noexcept = default;
  ~SigningKey();

  /// The raw 32-byte seed, for storage only.
  const std::string& seed() const { return seed_; }
  /// "ed25519:" + version.
  std::string key_id() const;
  /// The 32-byte public key as unpadded Base64.
  std::string public_key_base64() const;

  /// The detached Ed25519 signature of `message`, as unpadded Base64.
  std::string sign(std::string_view message) const;

  /// Signs `object` per the spec: the canonical JSON of the object without
  /// `signatures` and `unsigned` is signed, and the signature is stored in
  /// object["signatures"][server_name][key_id()], keeping other signatures.
  /// `unsigned` is left as it was. Throws std::invalid_argument if `object` is
  /// not an object, `signatures` (or its entry for server_name) is present but
  /// not an object, or the object is not canonical-JSON compatible; `object`
  /// is unchanged when it throws.
  void sign_json(nlohmann::json& object, std::string_view server_name) const;

 private:
  SigningKey() = default;

  std::string version_;
  std::string seed_;
  std::array<unsigned char, 32> public_key_{};
  std::array<unsigned char, 64> secret_key_{};
};

/// Checks the signature by `server_name` under `key_id` on `object` against
/// the unpadded-Base64 Ed25519 public key. False for anything but a valid
/// signature: missing entry, an algorithm other than ed25519, bad Base64,
/// wrong lengths, JSON that cannot be canonicalised, or a mismatch.
bool verify_json(const nlohmann::json& object, std::string_view server_name,
                 std::string_view key_id, std::string_view public_key_base64);

/// Signs an event the way the spec requires: the signature covers the redacted
/// event (so it stays checkable after a redaction), and is then copied onto the
/// full event, merged with signatures it already has. The content hash must be
/// present already (add_content_hash), since it is what makes the signature
/// cover the redactable content; std::invalid_argument otherwise.
void sign_event(nlohmann::json& event, const SigningKey& key, std::string_view server_name,
                const RoomVersion& version);

}  // namespace eltrix::matrix
