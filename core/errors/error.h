// Domain errors: what went wrong, said by the layer that knows it, without
// HTTP. storage/, rooms/, sync/, media/ and the other layers below the HTTP
// server throw these; the HTTP layer maps each one, in one place
// (http/error_mapping.h), to the Matrix error a client sees: its status, its
// errcode and, for a transient failure, Retry-After. See docs/decisions.md D34.
//
//   throw errors::forbidden("You are not in room " + room_id);
//   throw errors::invalid("M_BAD_JSON", "Event type must be 1 to 255 bytes");
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::errors {

/// What kind of failure, which decides the HTTP status (unless the spec ties
/// the errcode to another one; see http/error_mapping.h).
enum class Kind {
  invalid,         ///< the input is malformed or breaks a rule (400)
  not_found,       ///< what the request names does not exist (404)
  forbidden,       ///< the requester may not do this (403)
  conflict,        ///< it exists already or was changed meanwhile (409)
  too_large,       ///< the input is over a size limit (413)
  limit_exceeded,  ///< a rate or quota limit (429; with retry_after_ms when known)
  not_ready,       ///< it exists but is not available yet, and waiting ran out (504)
  transient,       ///< a dependency is down or busy; the same request may succeed later (503)
  internal,        ///< a bug, or stored data that cannot be read (500)
};

std::string_view to_string(Kind kind);

class Error : public std::runtime_error {
 public:
  /// `message` is shown to the client unless `shown` is false (it may name
  /// tables, hosts or SQL): the client then reads a generic text for `kind`.
  Error(Kind kind, std::string errcode, const std::string& message, bool shown = true)
      : std::runtime_error(message), kind_(kind), errcode_(std::move(errcode)), shown_(shown) {}

  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  /// The Matrix errcode ("M_FORBIDDEN", ...). For Kind::transient and
  /// Kind::internal the client always reads M_UNKNOWN.
  [[nodiscard]] const std::string& errcode() const noexcept { return errcode_; }
  [[nodiscard]] bool message_shown() const noexcept { return shown_; }
  /// True when retrying the same request later may succeed.
  [[nodiscard]] bool transient() const noexcept { return kind_ == Kind::transient; }

  /// Extra JSON members of the error body, e.g. with("retry_after_ms", 2000).
  Error& with(std::string key, nlohmann::json value) {
    extra_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  [[nodiscard]] const std::vector<std::pair<std::string, nlohmann::json>>& extra() const {
    return extra_;
  }

 private:
  Kind kind_;
  std::string errcode_;
  bool shown_;
  std::vector<std::pair<std::string, nlohmann::json>> extra_;
};

// The common cases, so a throw stays one line.
inline Error invalid(std::string errcode, const std::string& message) {
  return {Kind::invalid, std::move(errcode), message};
}
inline Error not_found(const std::string& message) {
  return {Kind::not_found, "M_NOT_FOUND", message};
}
inline Error forbidden(const std::string& message) {
  return {Kind::forbidden, "M_FORBIDDEN", message};
}
inline Error conflict(std::string errcode, const std::string& message) {
  return {Kind::conflict, std::move(errcode), message};
}
inline Error too_large(const std::string& message) {
  return {Kind::too_large, "M_TOO_LARGE", message};
}
inline Error transient(const std::string& message) {
  return {Kind::transient, "M_UNKNOWN", message};
}
inline Error internal(const std::string& message) {
  return {Kind::internal, "M_UNKNOWN", message};
}

}  // namespace eltrix::errors
