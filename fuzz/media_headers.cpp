// Fuzz target: the media repository's header handling (media/content_headers.h,
// media/byte_range.h, media/media_id.h): Content-Type from an upload,
// file names from ?filename=, Range from a download, media IDs and server
// names from download paths.
//
// Input: one header value or path segment, any bytes. Every function reads it.
// Properties:
//  - normalize_content_type is idempotent and yields lower-case tokens only;
//  - Content-Disposition is a single header line of printable ASCII, even for
//    a name is_acceptable_file_name refuses (it must never split headers);
//  - a partial range lies inside the object and is non-empty, and its
//    Content-Range names exactly that span;
//  - a valid media ID is 1-255 of [A-Za-z0-9_-] and its store key one the
//    stores accept; an issued-shape ID is also valid; the store key built from any
//    server name and a valid media ID has one "/" and no NUL or '\\', and
//    for a valid server name its first segment is not "." or "..".
#include "fuzz_check.h"
#include "matrix/utf8.h"
#include "media/byte_range.h"
#include "media/content_headers.h"
#include "media/media_id.h"

#include <eltrix/plugin/media_store.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

using eltrix::fuzz::as_text;
namespace media = eltrix::media;
namespace plugin = eltrix::plugin;

bool is_header_safe(std::string_view value) {
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) return false;
  }
  return true;
}

void check_content_type(std::string_view value) {
  const auto normalized = media::normalize_content_type(value);
  if (!normalized) return;
  FUZZ_CHECK(is_header_safe(*normalized));
  for (const char c : *normalized) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(media::normalize_content_type(*normalized) == normalized);
  (void)media::is_inline_safe(*normalized);
}

void check_file_name(std::string_view name) {
  const bool acceptable = media::is_acceptable_file_name(name);
  if (acceptable) {
    FUZZ_CHECK(!name.empty() && name.size() <= media::kMaxFileNameBytes);
    FUZZ_CHECK(eltrix::matrix::detail::is_valid_utf8(name));
  }
  for (const std::string_view type : {"image/png", "text/html", "application/octet-stream"}) {
    const auto disposition = media::content_disposition(type, name);
    FUZZ_CHECK(is_header_safe(disposition));
    FUZZ_CHECK(disposition.rfind(media::is_inline_safe(type) ? "inline" : "attachment", 0) == 0);
    // The quoted fallback ends at its own closing quote: one filename=, one filename*=.
    if (!name.empty()) {
      const auto quoted = disposition.find("filename=\"");
      FUZZ_CHECK(quoted != std::string::npos);
      const auto close = disposition.find('"', quoted + 10);
      FUZZ_CHECK(close != std::string::npos);
      FUZZ_CHECK(disposition.substr(close, 20) == "\"; filename*=UTF-8''");
    }
  }
}

void check_range(std::string_view header) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (const std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000},
                                   std::uint64_t{header.size()}, max}) {
    const auto request = media::parse_range(header, size);
    if (request.kind != media::RangeRequest::Kind::partial) continue;
    const auto& r = request.range;
    FUZZ_CHECK(r.length > 0);
    FUZZ_CHECK(r.offset < size);
    FUZZ_CHECK(r.length <= size - r.offset);
    const auto content_range = media::content_range(r, size);
    FUZZ_CHECK(content_range == "bytes " + std::to_string(r.offset) + "-" +
                                    std::to_string(r.offset + (r.length - 1)) + "/" +
                                    std::to_string(size));
  }
  (void)media::parse_range(std::nullopt, 10);
}

void check_ids(std::string_view text) {
  if (media::is_valid_media_id(text)) {
    // Any accepted ID makes a key the stores accept, one level under the
    // server's directory (no '.', '/' or NUL can pass).
    FUZZ_CHECK(!text.empty() && text.size() <= media::kMaxMediaIdLength);
    const auto own = media::media_key("example.org", text);
    FUZZ_CHECK(plugin::is_valid_object_key(own));
    FUZZ_CHECK(own == "example.org/" + std::string(text));
  }
  if (media::is_issued_media_id(text)) {
    FUZZ_CHECK(text.size() == media::kMediaIdLength && media::is_valid_media_id(text));
  }
  const std::string id = "abcdefghijklmnopqrstuvwx";
  FUZZ_CHECK(media::is_valid_media_id(id));
  const bool server_ok = media::is_valid_server_name(text);
  const auto key = media::media_key(text, id);
  const auto slash = key.find('/');
  FUZZ_CHECK(slash != std::string::npos && key.find('/', slash + 1) == std::string::npos);
  FUZZ_CHECK(key.find('\0') == std::string::npos);
  FUZZ_CHECK(key.find('\\') == std::string::npos);
  const auto segment = media::server_key_segment(text);
  if (server_ok) {
    // Valid server names never hold '_', so the segment maps one-to-one, and
    // a key segment is never a relative path step (store roots are directories).
    FUZZ_CHECK(text.find('_') == std::string_view::npos);
    FUZZ_CHECK(segment != "." && segment != "..");
  }
  for (const char c : segment) {
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '_');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  check_content_type(text);
  check_file_name(text);
  check_range(text);
  check_ids(text);
  return 0;
}
