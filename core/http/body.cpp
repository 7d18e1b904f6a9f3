#include "http/body.h"

namespace eltrix::http {

/// Reads and drops up to `max` bytes; true if the stream ended within them.
bool discard(std::istream& in, std::size_t max) {
  char buf[8192];
  std::size_t total = 0;
  while (total <= max) {
    in.read(buf, sizeof(buf));
    const auto got = static_cast<std::size_t>(in.gcount());
    total += got;
    if (got < sizeof(buf)) return in.eof() && total <= max;
  }
  return false;
}

}  // namespace eltrix::http
