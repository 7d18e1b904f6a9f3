// Media IDs and the store keys built from them.
//
// A media ID is chosen by this server: kMediaIdLength characters drawn from
// the CSPRNG over [A-Za-z0-9] (about 143 bits, so IDs are unguessable and
// never collide in practice). Every ID that arrives in a request is checked
// against the same strict pattern before it reaches the database or the
// store, so a path or key built from one can never hold "/", "..", NUL or
// anything else but those characters.
#pragma once

#include <string>
#include <string_view>

namespace eltrix::media {

inline constexpr std::size_t kMediaIdLength = 24;

/// A new media ID (CSPRNG, see above).
std::string generate_media_id();

/// Exactly kMediaIdLength characters of [A-Za-z0-9].
bool is_valid_media_id(std::string_view id);

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
