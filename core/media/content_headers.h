// The headers that make serving user-uploaded bytes safe (docs/decisions.md,
// "Media download headers"): the content type as stored, Content-Disposition
// inline only for a short allow-list of types a browser renders harmlessly,
// file names encoded per RFC 6266 / RFC 5987, and a sandboxing CSP.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::media {

/// The stored form of a client's Content-Type: "type/subtype" in lower case,
/// plus "; charset=<value>" when given (other parameters are dropped). nullopt
/// when `value` is not a media type (RFC 9110 §8.3.1 token "/" token).
std::optional<std::string> normalize_content_type(std::string_view value);

/// Whether `content_type` (normalized) may be shown inline: images a browser
/// renders without scripts (png, jpeg, gif, webp, avif, apng, bmp), audio and
/// video containers, and text/plain. Never svg, html, xml or anything that can
/// run script.
bool is_inline_safe(std::string_view content_type);

/// Longest accepted file name, in bytes.
inline constexpr std::size_t kMaxFileNameBytes = 255;

/// Whether a client-supplied file name may be stored and sent back: valid
/// UTF-8, 1..kMaxFileNameBytes bytes, no control characters, no '/' or '\\'.
bool is_acceptable_file_name(std::string_view name);

/// The Content-Disposition value: "inline" or "attachment", then, when a name
/// is given, filename="<ASCII fallback>" and filename*=UTF-8''<percent-encoded>
/// (RFC 6266 §4.3, RFC 5987 §3.2). The fallback replaces every byte outside
/// printable ASCII, '"' and '\\' with '_'.
std::string content_disposition(std::string_view content_type, std::string_view file_name);

/// The security headers every media response carries (CSP sandbox, nosniff,
/// Cross-Origin-Resource-Policy).
const std::vector<std::pair<std::string, std::string>>& security_headers();

}  // namespace eltrix::media
