#include "http/error_mapping.h"

#include "http/router.h"

#include <algorithm>
#include <string>
#include <string_view>

namespace eltrix::http {

namespace {

/// Errcodes whose status the spec fixes whatever the kind of failure.
struct FixedStatus {
  std::string_view errcode;
  int status;
};
constexpr FixedStatus kFixedStatuses[] = {
    // createRoom and PUT /directory/room: an alias that is taken.
    {"M_ROOM_IN_USE", 400},
};

int status_of_kind(errors::Kind kind) {
  switch (kind) {
    case errors::Kind::invalid: return 400;
    case errors::Kind::not_found: return 404;
    case errors::Kind::forbidden: return 403;
    case errors::Kind::conflict: return 409;
    case errors::Kind::too_large: return 413;
    case errors::Kind::limit_exceeded: return 429;
    case errors::Kind::not_ready: return 504;
    case errors::Kind::transient: return 503;
    case errors::Kind::internal: return 500;
  }
  return 500;
}

std::string_view generic_message(errors::Kind kind) {
  switch (kind) {
    case errors::Kind::transient: return "The server is temporarily unavailable; try again later";
    case errors::Kind::internal: return "Internal server error";
    default: return "The request failed";
  }
}

}  // namespace

int status_of(const errors::Error& error) {
  for (const auto& fixed : kFixedStatuses) {
    if (fixed.errcode == error.errcode()) return fixed.status;
  }
  return status_of_kind(error.kind());
}

MatrixError to_matrix_error(const errors::Error& error) {
  const bool server_side =
      error.kind() == errors::Kind::transient || error.kind() == errors::Kind::internal;
  MatrixError out(status_of(error), server_side ? "M_UNKNOWN" : error.errcode(),
                  error.message_shown() ? std::string(error.what())
                                        : std::string(generic_message(error.kind())));
  for (const auto& [key, value] : error.extra()) out.with(key, value);
  return out;
}

Response Response::error(const errors::Error& error) {
  Response response = Response::error(to_matrix_error(error));
  const bool has_retry_after =
      std::any_of(response.headers.begin(), response.headers.end(),
                  [](const auto& header) { return header.first == "Retry-After"; });
  if (error.transient() && !has_retry_after) {
    response.headers.emplace_back("Retry-After", std::to_string(kTransientRetryAfterSeconds));
  }
  return response;
}

}  // namespace eltrix::http
