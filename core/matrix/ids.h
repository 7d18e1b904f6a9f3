// Identifier grammar (Matrix spec, appendices, "Identifier Grammar"): server
// names, user IDs, room IDs, event IDs and room aliases, plus the random
// strings this server uses to mint new identifiers.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::matrix {

/// Identifiers including their sigil and domain may not exceed this many bytes.
inline constexpr std::size_t kMaxIdentifierBytes = 255;

/// hostname [":" port], where hostname is a dotted-quad IPv4 literal, a
/// bracketed IPv6 literal or a DNS name of non-empty alphanumeric/hyphen labels.
/// Case is kept (server names compare case-sensitively). A name made only of
/// digits and dots must be a valid IPv4 literal, so "999.1.1.1" is rejected
/// rather than being resolved inconsistently.
bool is_valid_server_name(std::string_view name);

struct UserId {
  std::string localpart;
  std::string server;

  /// "@" + localpart + ":" + server.
  std::string str() const;
  friend bool operator==(const UserId&, const UserId&) = default;
};

/// Parses "@localpart:server" with the historical grammar that servers must
/// accept in events: the localpart runs to the first ':' and may hold any
/// Unicode except NUL (but not be empty); the server must be a valid server
/// name; the whole ID may not exceed 255 bytes and must be valid UTF-8.
/// Use is_valid_new_localpart() when minting IDs and is_compliant_localpart()
/// before showing a user ID to clients outside an event.
std::optional<UserId> parse_user_id(std::string_view id);

/// The current grammar for localparts of new users: non-empty and only
/// a-z 0-9 . _ = - / +. Upper case is rejected, never folded here.
bool is_valid_new_localpart(std::string_view localpart);

/// Whether a localpart is "compliant" in the spec's sense: non-empty and only
/// U+0021..U+007E other than ':'. Weaker than is_valid_new_localpart().
bool is_compliant_localpart(std::string_view localpart);

/// "!" opaque ":" server_name, at most 255 bytes; the opaque part is non-empty
/// and holds no ':' or NUL.
bool is_valid_room_id(std::string_view id);

/// "$" followed by at least one character, at most 255 bytes, no NUL, valid
/// UTF-8. Accepts both "$opaque:domain" (room versions 1-3) and the reference
/// hash form of v4+, which has no domain.
bool is_valid_event_id(std::string_view id);

/// "#" localpart ":" server_name, at most 255 bytes; the localpart is non-empty
/// and holds no ':' or NUL.
bool is_valid_room_alias(std::string_view alias);

/// Everything after the first ':' (the server name of a user ID, room ID, alias
/// or v1-3 event ID); empty when there is no ':'.
std::string server_of(std::string_view id);

/// `n` letters from A-Za-z, uniformly chosen with libsodium's CSPRNG.
std::string random_string(std::size_t n);

/// A fresh room ID: "!" + 18 random letters + ":" + server_name.
std::string make_room_id(std::string_view server_name);

}  // namespace eltrix::matrix
