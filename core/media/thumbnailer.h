// Thumbnails of uploaded images, made with libvips (docs/decisions.md: libvips).
//
// The media endpoints call Thumbnailer::make() on the bytes of a stored upload
// and store what it returns through the media-store plugin, so each standard
// size is generated once. Untrusted input is bounded before any pixel is
// decoded: the upload's size, then the format (magic bytes, allow-listed
// loaders only), then the image header's width x height.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eltrix::media {

enum class ThumbnailMethod { scale, crop };

struct ThumbnailSize {
  int width = 0;
  int height = 0;
  ThumbnailMethod method = ThumbnailMethod::scale;
};

/// The sizes the Matrix spec suggests ("Thumbnails"), smallest first within
/// each method: 32x32 crop, 96x96 crop, 320x240 scale, 640x480 scale,
/// 800x600 scale.
std::span<const ThumbnailSize> standard_sizes();

/// The standard size to serve for a request of width x height by `method`.
/// Only sizes of the requested method are candidates. Among them, the first
/// (smallest) whose width >= `width` and height >= `height`; if none is that
/// large, the largest. So crop 50x50 -> 96x96 crop, scale 100x100 -> 320x240
/// scale, scale 1000x1000 -> 800x600 scale, crop 200x200 -> 96x96 crop.
/// A non-positive dimension counts as "any" (0).
ThumbnailSize choose_size(int width, int height, ThumbnailMethod method);

/// Bounds on what make() will decode. 0 means the default below.
struct ThumbnailLimits {
  std::uint64_t max_source_bytes = 0;
  std::uint64_t max_pixels = 0;
};
/// Defaults when a limit is 0: 32 megapixels (a 7200x4400 photo; a
/// thumbnail pipeline streams so memory stays far below width*height*4),
/// and 50 MiB of source bytes.
inline constexpr std::uint64_t kDefaultMaxThumbnailPixels = 32'000'000;
inline constexpr std::uint64_t kDefaultMaxThumbnailSourceBytes = 50ULL * 1024 * 1024;

struct Thumbnail {
  std::string bytes;
  std::string content_type;  // "image/png" or "image/jpeg"
  int width = 0;
  int height = 0;
};

class ThumbnailError : public std::runtime_error {
 public:
  // not_image: not a JPEG, PNG, GIF or WebP (text, SVG, PDF, random bytes, or
  //            a file that starts like an image but whose header is unreadable);
  // too_large: over max_source_bytes or max_pixels (e.g. a decompression bomb);
  // failed:    a supported image that could not be decoded or encoded
  //            (truncated or corrupt pixel data), or an invalid size.
  enum class Kind { not_image, too_large, failed };
  ThumbnailError(Kind kind, const std::string& what);
  Kind kind() const noexcept;

 private:
  Kind kind_;
};

/// Decoding slots, shared by every Thumbnailer in the process. A decode can
/// need several bytes per source pixel (a progressive JPEG keeps all its DCT
/// coefficients: ~6 bytes/pixel, 70 MB for 12 megapixels), so at most
/// `limit` (the number of CPUs, at least 2) run at once and further calls
/// wait for a slot; memory stays bounded by limit x max_pixels x ~6 bytes.
/// The work is CPU-bound, so waiting costs no throughput.
struct ThumbnailActivity {
  int running = 0;
  int waiting = 0;
  int limit = 0;
};
ThumbnailActivity thumbnail_activity();

class Thumbnailer {
 public:
  /// Initialises libvips once per process (loaders restricted to JPEG, PNG,
  /// GIF and WebP, operation cache off, one worker thread per pipeline).
  explicit Thumbnailer(ThumbnailLimits limits);

  /// A thumbnail of `source` at `size`:
  /// - scale keeps the aspect ratio and fits within width x height, never
  ///   larger than the source;
  /// - crop fills width x height and cuts the centre, never upscaling (a
  ///   source smaller than the box gives a smaller thumbnail).
  /// PNG for sources with alpha and for PNG/GIF sources, JPEG (quality 80)
  /// otherwise; metadata is stripped. `source_content_type` is what the
  /// uploader declared: the bytes decide the format, the declared type only
  /// appears in error messages.
  /// Throws ThumbnailError. Thread-safe.
  Thumbnail make(std::string_view source, std::string_view source_content_type,
                 const ThumbnailSize& size) const;

  const ThumbnailLimits& limits() const noexcept { return limits_; }

 private:
  ThumbnailLimits limits_;
};

}  // namespace eltrix::media
