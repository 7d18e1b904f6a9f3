// Fuzz target: identifiers and tokens clients put in paths and query strings:
// Matrix IDs (matrix/ids.h) and sync/pagination tokens (sync/token.h).
//
// Input: one identifier or token, any bytes. Every parser reads it.
// Properties:
//  - a parsed user ID prints back to exactly the input, and its parts are
//    what the grammar promises (non-empty localpart without ':' or NUL,
//    valid server name, at most 255 bytes, valid UTF-8);
//  - room IDs, aliases and event IDs accepted are within 255 bytes and free
//    of NUL; server_of() of an accepted ID is a valid server name;
//  - a server name the config accepts for server.name is one the Matrix
//    grammar accepts (else the server's own user IDs would not parse);
//  - a parsed sync token formats to a token that parses to the same value,
//    and formatted tokens are what parse_stream_token reads back.
#include "config/core_keys.h"
#include "fuzz_check.h"
#include "matrix/ids.h"
#include "matrix/utf8.h"
#include "sync/token.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using eltrix::fuzz::as_text;
namespace matrix = eltrix::matrix;
namespace sync = eltrix::sync;

void check_ids(std::string_view text) {
  if (const auto user = matrix::parse_user_id(text)) {
    FUZZ_CHECK(user->str() == text);
    FUZZ_CHECK(!user->localpart.empty());
    FUZZ_CHECK(user->localpart.find(':') == std::string::npos);
    FUZZ_CHECK(user->localpart.find('\0') == std::string::npos);
    FUZZ_CHECK(matrix::is_valid_server_name(user->server));
    FUZZ_CHECK(matrix::server_of(text) == user->server);
    FUZZ_CHECK(text.size() <= matrix::kMaxIdentifierBytes);
    FUZZ_CHECK(matrix::detail::is_valid_utf8(text));
  }
  for (const bool valid : {matrix::is_valid_room_id(text), matrix::is_valid_room_alias(text)}) {
    if (!valid) continue;
    FUZZ_CHECK(text.size() <= matrix::kMaxIdentifierBytes);
    FUZZ_CHECK(text.find('\0') == std::string_view::npos);
    FUZZ_CHECK(matrix::is_valid_server_name(matrix::server_of(text)));
  }
  if (matrix::is_valid_event_id(text)) {
    FUZZ_CHECK(text.size() >= 2 && text.size() <= matrix::kMaxIdentifierBytes);
    FUZZ_CHECK(text.find('\0') == std::string_view::npos);
  }
  if (matrix::is_valid_new_localpart(text)) FUZZ_CHECK(matrix::is_compliant_localpart(text));
  if (!eltrix::config::check_server_name(text)) {
    FUZZ_CHECK(matrix::is_valid_server_name(text));
    if (text.size() <= 200) {
      FUZZ_CHECK(matrix::parse_user_id("@a:" + std::string(text)).has_value());
    }
  }
  if (matrix::is_valid_server_name(text)) {
    FUZZ_CHECK(!text.empty());
    FUZZ_CHECK(text.find('/') == std::string_view::npos);
    FUZZ_CHECK(text.find('\0') == std::string_view::npos);
  }
}

void check_tokens(std::string_view text) {
  if (const auto token = sync::parse_sync_token(text)) {
    FUZZ_CHECK(token->stream >= 0);
    const auto formatted = sync::format_sync_token(*token);
    const auto again = sync::parse_sync_token(formatted);
    FUZZ_CHECK(again && again->stream == token->stream && again->typing == token->typing);
    std::int64_t stream = -1;
    FUZZ_CHECK(sync::parse_stream_token(text, stream) && stream == token->stream);
    FUZZ_CHECK(sync::parse_stream_token(sync::format_stream_token(stream), stream));
    FUZZ_CHECK(stream == token->stream);
  } else {
    std::int64_t stream = -1;
    FUZZ_CHECK(!sync::parse_stream_token(text, stream));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  check_ids(text);
  check_tokens(text);
  return 0;
}
