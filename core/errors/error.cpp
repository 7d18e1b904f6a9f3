#include "errors/error.h"

namespace eltrix::errors {

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::invalid: return "invalid";
    case Kind::not_found: return "not_found";
    case Kind::forbidden: return "forbidden";
    case Kind::conflict: return "conflict";
    case Kind::too_large: return "too_large";
    case Kind::limit_exceeded: return "limit_exceeded";
    case Kind::not_ready: return "not_ready";
    case Kind::transient: return "transient";
    case Kind::internal: return "internal";
  }
  return "unknown";
}

}  // namespace eltrix::errors
