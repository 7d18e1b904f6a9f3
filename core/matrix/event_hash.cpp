#include "matrix/event_hash.h"

#include "matrix/base64.h"
#include "matrix/canonical_json.h"
#include "matrix/redaction.h"

#include <sodium.h>

#include <stdexcept>

namespace eltrix::matrix {

namespace {

std::string sha256(std::string_view bytes) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return digest;
}

}  // namespace

std::string compute_content_hash(const nlohmann::json& event) {
  if (!event.is_object()) throw std::invalid_argument("content hash: event is not a JSON object");
  nlohmann::json stripped = event;
  stripped.erase("unsigned");
  stripped.erase("signatures");
  stripped.erase("hashes");
  return encode_base64_unpadded(sha256(canonical_json(stripped)));
}

void add_content_hash(nlohmann::json& event) {
  std::string hash = compute_content_hash(event);
  auto& hashes = event["hashes"];
  if (!hashes.is_object()) hashes = nlohmann::json::object();
  hashes["sha256"] = std::move(hash);
}

std::string compute_event_id(const nlohmann::json& event, const RoomVersion& version) {
  nlohmann::json redacted = redact_event(event, version);
  redacted.erase("signatures");
  redacted.erase("unsigned");
  redacted.erase("age_ts");
  redacted.erase("event_id");
  return "$" + encode_base64_urlsafe_unpadded(sha256(canonical_json(redacted)));
}

}  // namespace eltrix::matrix
