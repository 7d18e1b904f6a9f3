// Event content hashes and reference hashes (Matrix spec, server-server API:
// "Calculating the content hash for an event", "Calculating the reference hash
// for an event"; room versions 4+: the event ID is the reference hash).
#pragma once

#include "matrix/room_version.h"

#include <nlohmann/json.hpp>

#include <string>

namespace eltrix::matrix {

/// SHA-256 over the canonical JSON of `event` without `unsigned`, `signatures`
/// and `hashes`, as unpadded standard Base64. Covers the unredacted content.
/// Throws std::invalid_argument if `event` is not an object or is not
/// canonical-JSON compatible.
std::string compute_content_hash(const nlohmann::json& event);

/// Sets event["hashes"]["sha256"] to compute_content_hash(event), keeping any
/// other algorithms already present in `hashes`.
void add_content_hash(nlohmann::json& event);

/// The event ID of a v4+ event: "$" + URL-safe unpadded Base64 of the SHA-256
/// of the canonical JSON of the redacted event without `signatures`,
/// `unsigned` and `age_ts`. A top-level `event_id`, which these room versions
/// do not carry in the PDU, is ignored so that the ID of an event is the same
/// whether or not it has been annotated with it. When creating an event, call
/// add_content_hash() first: the hash is what ties the ID to the content that
/// redaction strips.
std::string compute_event_id(const nlohmann::json& event, const RoomVersion& version);

}  // namespace eltrix::matrix
