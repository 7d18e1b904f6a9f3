// Request IDs: accepted from the client's X-Request-ID when well-formed,
// generated otherwise, and carried in the access log and the response.
#pragma once

#include <string>
#include <string_view>

namespace eltrix::http {

/// 1 to 64 characters of [A-Za-z0-9._-]: safe to log and to echo in a header.
bool valid_request_id(std::string_view id);

/// 16 random hex characters (a per-thread generator; no lock on the hot path).
std::string new_request_id();

}  // namespace eltrix::http
