// Errors a plugin reports to the core.
//
// Like PowerDNS backends, a plugin says whether a failure is transient (the
// backend may work again soon: a timeout, a refused connection) or permanent
// (configuration or programming error). The core degrades on transient errors
// and refuses to start on permanent ones at create time.
#pragma once

#include <eltrix/plugin/abi.h>

#include <stdexcept>
#include <string>

namespace eltrix::plugin {

enum class ErrorKind : std::uint32_t {
  transient = 1,         ///< retrying later may succeed
  permanent = 2,         ///< will not succeed without a change of config or code
  invalid_argument = 3,  ///< the caller passed something the plugin rejects
};

/// The one exception type plugins throw on purpose. Any other exception is
/// treated as permanent. Exported so its type_info is shared across objects.
class ELTRIX_PLUGIN_EXPORT Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  [[nodiscard]] bool transient() const noexcept { return kind_ == ErrorKind::transient; }

 private:
  ErrorKind kind_;
};

}  // namespace eltrix::plugin
