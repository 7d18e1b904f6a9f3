// Matrix error responses: {"errcode":"M_...","error":"..."} with an HTTP status.
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

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
  MatrixError& with(std::string key, const Poco::Dynamic::Var& value);
  [[nodiscard]] const std::vector<std::pair<std::string, Poco::Dynamic::Var>>& extra() const {
    return extra_;
  }

  /// {"errcode":..., "error":..., extra...}
  [[nodiscard]] Poco::JSON::Object to_json() const;

 private:
  int status_;
  std::string errcode_;
  std::vector<std::pair<std::string, Poco::Dynamic::Var>> extra_;
};

}  // namespace eltrix::http
