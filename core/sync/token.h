// Sync and pagination tokens. A sync token "s<stream>_<typing>" names a
// position in the shared stream (see storage/stream.h) and the typing serial;
// pagination tokens "s<stream>" name a point between two events of a room.
// Tokens stay valid across restarts because the stream lives in PostgreSQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::sync {

struct SyncToken {
  std::int64_t stream = 0;
  std::uint64_t typing = 0;
};

std::string format_sync_token(const SyncToken& token);
/// nullopt for anything that is not a token we issued.
std::optional<SyncToken> parse_sync_token(std::string_view text);

std::string format_stream_token(std::int64_t stream);
/// Accepts both token kinds (a sync's next_batch or prev_batch can start a
/// pagination); false when malformed.
bool parse_stream_token(std::string_view text, std::int64_t& stream);

}  // namespace eltrix::sync
