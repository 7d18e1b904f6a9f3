// User IDs of local accounts (spec appendices, "User Identifiers"): which
// localparts registration accepts, and how login identifiers name a user.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::accounts {

/// Longest user ID, "@localpart:server" included, in bytes (spec).
inline constexpr std::size_t kMaxUserIdBytes = 255;

/// Whether `localpart` is non-empty and made only of a-z 0-9 . _ = - / +.
bool valid_localpart(std::string_view localpart);

/// Why `localpart` cannot name a new account on `server_name` (a sentence
/// for M_INVALID_USERNAME), or nullopt when it can. Beyond the grammar and
/// length, a leading '_' is refused: it is kept for bridges and application
/// services, as other homeservers do.
std::optional<std::string> check_new_localpart(std::string_view localpart,
                                               std::string_view server_name);

/// "@" + localpart + ":" + server_name.
std::string make_user_id(std::string_view localpart, std::string_view server_name);

/// ASCII A-Z lowered; other bytes unchanged. Registration maps requested
/// usernames through it, since user IDs may not contain upper case.
std::string to_lower_ascii(std::string_view text);

/// The local user ID that a login identifier names: a bare localpart or a
/// full "@localpart:server_name" (case-insensitive, as users type them).
/// Nullopt for another server's user or something that is not a user ID.
std::optional<std::string> local_user_id(std::string_view user, std::string_view server_name);

/// A fresh localpart for registrations without a username: "u" followed by
/// 15 random lower-case letters and digits.
std::string generate_localpart();

}  // namespace eltrix::accounts
