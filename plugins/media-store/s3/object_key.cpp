#include "object_key.h"

#include <algorithm>

namespace eltrix::media_s3 {

std::string s3_object_key(std::string_view key) {
  std::string out;
  out.reserve(key.size() + key.size() / kMaxSegment * 2);
  std::size_t start = 0;
  while (start <= key.size()) {
    auto slash = key.find('/', start);
    auto end = slash == std::string_view::npos ? key.size() : slash;
    auto segment = key.substr(start, end - start);
    while (segment.size() > kMaxSegment) {
      // Leave at least three bytes for the last piece, so it is never "." or
      // "..", which HTTP clients and servers would resolve away.
      const std::size_t cut = std::min(kMaxSegment, segment.size() - 3);
      out.append(segment.substr(0, cut)).append("~/");
      segment.remove_prefix(cut);
    }
    out.append(segment);
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

}  // namespace eltrix::media_s3
