// The one place where a domain error (errors/error.h) becomes the Matrix
// error a client sees: HTTP status, errcode, message and headers.
#pragma once

#include "errors/error.h"
#include "http/error.h"

namespace eltrix::http {

/// Seconds a client is told to wait (Retry-After) after a transient failure:
/// long enough for a pool to free a connection or a database to fail over a
/// connection, short enough that a retrying client barely notices.
inline constexpr int kTransientRetryAfterSeconds = 1;

/// The status for `error`: the one the spec ties to its errcode if any
/// (M_ROOM_IN_USE is 400), otherwise the one of its kind (not_found 404,
/// forbidden 403, conflict 409, transient 503, ...).
int status_of(const errors::Error& error);

/// The Matrix error for `error`. Transient and internal failures read
/// M_UNKNOWN; a message that is not to be shown reads as a generic one.
MatrixError to_matrix_error(const errors::Error& error);

}  // namespace eltrix::http
