// Matrix error responses: {"errcode":"M_...","error":"..."} with an HTTP status.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace eltrix::http {

/// Thrown by handlers (or anything they call) to answer with a Matrix error.
/// The message is sent to the client, so it must not contain secrets.
class MatrixError : public std::runtime_error {
 public:
  MatrixError(int status, std::string errcode, const std::string& message);

  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] const std::string& errcode() const { return errcode_; }
  /// Extra JSON members, e.g. with("retry_after_ms", 2000) for M_LIMIT_EXCEEDED.
  MatrixError& with(std::string key, nlohmann::json value);
  [[nodiscard]] const std::vector<std::pair<std::string, nlohmann::json>>& extra() const {
    return extra_;
  }

  /// {"errcode":..., "error":..., extra...}
  [[nodiscard]] nlohmann::json to_json() const;

 private:
  int status_;
  std::string errcode_;
  std::vector<std::pair<std::string, nlohmann::json>> extra_;
};

}  // namespace eltrix::http
