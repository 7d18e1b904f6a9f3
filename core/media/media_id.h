// Media IDs and the store keys built from them.
//
// A media ID this server issues is kMediaIdLength characters drawn from the
// CSPRNG over [A-Za-z0-9] (about 143 bits, so IDs are unguessable and never
// collide in practice).
//
// An ID that arrives in a request is held to the spec's rule instead, which
// fixes only the alphabet ([A-Za-z0-9_-]): other servers issue IDs of other
// lengths, and a well-formed ID we never issued is simply not found (404),
// not malformed (400). The alphabet has no '.', '/', '%' or NUL, so a path or
// key built from an accepted ID can never climb out of its directory, and the
// length is bounded (kMaxMediaIdLength) so keys stay within the store's limit.
#pragma once

#include <string>
#include <string_view>

namespace eltrix::media {

inline constexpr std::size_t kMediaIdLength = 24;

/// The longest media ID accepted in a request. The spec sets no limit; 255
/// is far beyond what servers issue (Synapse's and ours are 24) and bounds
/// what a request can make us look up.
inline constexpr std::size_t kMaxMediaIdLength = 255;

/// A new media ID (CSPRNG, see above).
std::string generate_media_id();

/// 1 to kMaxMediaIdLength characters of [A-Za-z0-9_-]: any ID the spec
/// allows, ours or another server's. Checked on every ID in a request.
bool is_valid_media_id(std::string_view id);

/// Exactly kMediaIdLength characters of [A-Za-z0-9]: the shape of the IDs
/// generate_media_id() makes. The orphan sweep only ever deletes store
/// objects whose key has this shape, so it never touches what it did not make.
bool is_issued_media_id(std::string_view id);

/// A server name as the spec allows it (hostname, IPv4 or [IPv6], optional
/// :port), at most 255 bytes.
bool is_valid_server_name(std::string_view server);

/// The server name as one store-key segment: [A-Za-z0-9.-] stay, every other
/// byte becomes "_XX" (hex). Server names never contain '_', so the mapping
/// is one-to-one ("localhost:8448" -> "localhost_3a8448").
std::string server_key_segment(std::string_view server);

/// Store key of an uploaded file: "<server segment>/<media id>".
std::string media_key(std::string_view server, std::string_view media_id);

/// Store key of a thumbnail:
/// "thumbnails/<server segment>/<media id>/<w>x<h>-<method>".
std::string thumbnail_key(std::string_view server, std::string_view media_id, int width, int height,
                          std::string_view method);

}  // namespace eltrix::media
