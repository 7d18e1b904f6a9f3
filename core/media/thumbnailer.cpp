#include "media/thumbnailer.h"

#include <vips/vips.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace eltrix::media {

namespace {

constexpr std::array<ThumbnailSize, 5> kStandardSizes{{
    {32, 32, ThumbnailMethod::crop},
    {96, 96, ThumbnailMethod::crop},
    {320, 240, ThumbnailMethod::scale},
    {640, 480, ThumbnailMethod::scale},
    {800, 600, ThumbnailMethod::scale},
}};

// Larger boxes than any standard size are allowed (make() takes any size),
// but not absurd ones: libvips would accept up to 10,000,000.
constexpr int kMaxBoxSide = 4096;
constexpr int kJpegQuality = 80;
constexpr std::size_t kMaxErrorMessage = 300;
constexpr const char* kLoadOptions = "fail_on=truncated";

// Formats make() decodes. Everything else (SVG, PDF, TIFF, HEIF, vips' own
// formats, ...) is refused before libvips sees the bytes.
enum class Format { jpeg, png, gif, webp };

const char* format_name(Format format) {
  switch (format) {
    case Format::jpeg: return "JPEG";
    case Format::png: return "PNG";
    case Format::gif: return "GIF";
    case Format::webp: return "WebP";
  }
  return "?";
}

bool starts_with(std::string_view bytes, std::string_view prefix) {
  return bytes.substr(0, prefix.size()) == prefix;
}

std::optional<Format> sniff(std::string_view bytes) {
  using namespace std::string_view_literals;
  if (starts_with(bytes, "\xFF\xD8\xFF"sv)) return Format::jpeg;
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n"sv)) return Format::png;
  if (starts_with(bytes, "GIF87a"sv) || starts_with(bytes, "GIF89a"sv)) return Format::gif;
  if (bytes.size() >= 12 && starts_with(bytes, "RIFF"sv) && bytes.substr(8, 4) == "WEBP"sv) {
    return Format::webp;
  }
  return std::nullopt;
}

// A hint for the not_image message: what the bytes look like, if it is a
// format people commonly expect thumbnails of.
std::string_view looks_like(std::string_view bytes) {
  const auto first = bytes.find_first_not_of(" \t\r\n");
  const std::string_view text = first == std::string_view::npos ? "" : bytes.substr(first);
  if (starts_with(text, "<svg") || (starts_with(text, "<?xml") && text.find("<svg") != text.npos)) {
    return "SVG";
  }
  if (starts_with(bytes, "%PDF-")) return "PDF";
  if (starts_with(bytes, "II*") || starts_with(bytes, "MM\0*")) return "TIFF";
  if (starts_with(bytes, "BM")) return "BMP";
  if (bytes.size() >= 12 && bytes.substr(4, 4) == "ftyp") return "HEIF/AVIF or video";
  return {};
}

// libvips keeps one process-wide error buffer; take (copy and clear) it so
// messages do not pile up. Concurrent failures may share a message; it is
// only ever used for error text, never to decide the error kind.
std::string take_vips_error() {
  char* raw = vips_error_buffer_copy();
  std::string message = raw != nullptr ? raw : "";
  g_free(raw);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  for (char& c : message) {
    if (c == '\n') c = ';';
  }
  if (message.size() > kMaxErrorMessage) message.resize(kMaxErrorMessage);
  return message.empty() ? "unknown libvips error" : message;
}

struct GObjectUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, GObjectUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};

// libvips warnings (e.g. "read gave 2 warnings") go to GLib's default
// handler, i.e. stderr, bypassing our structured log; errors reach callers
// as ThumbnailError, so warnings are dropped.
void ignore_vips_log(const gchar* /*domain*/, GLogLevelFlags /*level*/, const gchar* /*message*/,
                     gpointer /*data*/) {}

void init_vips_once() {
  static std::once_flag once;
  static std::string init_error;
  std::call_once(once, [] {
    if (VIPS_INIT("eltrix") != 0) {
      init_error = take_vips_error();
      return;
    }
    // Only the four allow-listed loaders may run, even if something slipped
    // past sniff(): block every loader, then unblock ours (libvips 8.13+).
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (const char* loader : {"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadNsgif",
                               "VipsForeignLoadWebp"}) {
      vips_operation_block_set(loader, FALSE);
    }
    // The operation cache would keep decoded images of uploads alive (and
    // keys buffer loads by address, which the next request may reuse);
    // thumbnails are cached in the media store instead.
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    // Parallelism comes from concurrent requests on the HTTP workers; one
    // worker per pipeline keeps threads (and their buffers) bounded by them.
    vips_concurrency_set(1);
    g_log_set_handler("VIPS",
                      static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                      ignore_vips_log, nullptr);
  });
  if (!init_error.empty()) {
    throw ThumbnailError(ThumbnailError::Kind::failed,
                         "libvips failed to initialise: " + init_error);
  }
}

// The process-wide decoding slots (see ThumbnailActivity in the header).
class DecodeSlots {
 public:
  DecodeSlots() : limit_(std::max(2, static_cast<int>(std::thread::hardware_concurrency()))) {}

  void acquire() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    freed_.wait(lock, [this] { return running_ < limit_; });
    --waiting_;
    ++running_;
  }
  void release() {
    {
      const std::lock_guard lock(mutex_);
      --running_;
    }
    freed_.notify_one();
  }
  ThumbnailActivity activity() {
    const std::lock_guard lock(mutex_);
    return {running_, waiting_, limit_};
  }

 private:
  const int limit_;
  std::mutex mutex_;
  std::condition_variable freed_;
  int running_ = 0;  // guarded by mutex_
  int waiting_ = 0;  // guarded by mutex_
};

DecodeSlots& decode_slots() {
  static DecodeSlots slots;
  return slots;
}

class DecodeSlot {
 public:
  DecodeSlot() { decode_slots().acquire(); }
  ~DecodeSlot() { decode_slots().release(); }
  DecodeSlot(const DecodeSlot&) = delete;
  DecodeSlot& operator=(const DecodeSlot&) = delete;
};

// Reads only the header (sequential access: no pixels are decoded here) with
// the loader for `format`, called directly rather than sniffed by libvips.
Image open_header(std::string_view source, Format format) {
  // libvips' buffer loaders take void* but never write to the buffer.
  void* data = const_cast<char*>(source.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  const std::size_t size = source.size();
  VipsImage* out = nullptr;
  int rc = -1;
  switch (format) {
    case Format::jpeg:
      rc = vips_jpegload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, nullptr);
      break;
    case Format::png:
      rc = vips_pngload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, nullptr);
      break;
    case Format::gif:
      rc = vips_gifload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, nullptr);
      break;
    case Format::webp:
      rc = vips_webpload_buffer(data, size, &out, "access", VIPS_ACCESS_SEQUENTIAL, nullptr);
      break;
  }
  if (rc != 0 || out == nullptr) {
    throw ThumbnailError(
        ThumbnailError::Kind::not_image,
        std::string("not a readable ") + format_name(format) + " image: " + take_vips_error());
  }
  return Image(out);
}

std::string quoted_type(std::string_view content_type) {
  if (content_type.empty()) return "no declared content type";
  if (content_type.size() > 100) content_type = content_type.substr(0, 100);
  return "declared as '" + std::string(content_type) + "'";
}

}  // namespace

ThumbnailError::ThumbnailError(Kind kind, const std::string& what)
    : std::runtime_error(what), kind_(kind) {}

ThumbnailError::Kind ThumbnailError::kind() const noexcept {
  return kind_;
}

ThumbnailActivity thumbnail_activity() {
  return decode_slots().activity();
}

std::span<const ThumbnailSize> standard_sizes() {
  return kStandardSizes;
}

ThumbnailSize choose_size(int width, int height, ThumbnailMethod method) {
  ThumbnailSize largest{0, 0, method};  // both methods have standard sizes: always replaced
  for (const ThumbnailSize& size : kStandardSizes) {
    if (size.method != method) continue;
    if (size.width >= width && size.height >= height) return size;  // smallest first
    largest = size;
  }
  return largest;
}

Thumbnailer::Thumbnailer(ThumbnailLimits limits) : limits_(limits) {
  if (limits_.max_source_bytes == 0) limits_.max_source_bytes = kDefaultMaxThumbnailSourceBytes;
  if (limits_.max_pixels == 0) limits_.max_pixels = kDefaultMaxThumbnailPixels;
  init_vips_once();
}

Thumbnail Thumbnailer::make(std::string_view source, std::string_view source_content_type,
                            const ThumbnailSize& size) const {
  using Kind = ThumbnailError::Kind;
  if (size.width < 1 || size.height < 1 || size.width > kMaxBoxSide || size.height > kMaxBoxSide) {
    throw ThumbnailError(Kind::failed, "invalid thumbnail size " + std::to_string(size.width) +
                                           "x" + std::to_string(size.height));
  }
  // 1. Size of the upload, before anything looks at it.
  if (source.size() > limits_.max_source_bytes) {
    throw ThumbnailError(Kind::too_large, "image of " + std::to_string(source.size()) +
                                              " bytes is over the thumbnail limit of " +
                                              std::to_string(limits_.max_source_bytes) + " bytes");
  }
  // 2. Format, from the bytes (the declared type is the uploader's claim).
  const std::optional<Format> format = sniff(source);
  if (!format) {
    const std::string_view hint = looks_like(source);
    throw ThumbnailError(Kind::not_image,
                         std::string("cannot make a thumbnail: ") +
                             (hint.empty() ? "the content is not an image"
                                           : std::string(hint) + " images are not supported") +
                             " (" + quoted_type(source_content_type) +
                             "; thumbnails are made of JPEG, PNG, GIF and WebP images)");
  }
  // 3. Dimensions, from the header alone: a decompression bomb (a few KB
  //    that decode to gigapixels) stops here without a pixel allocated.
  const Image header = open_header(source, *format);
  const auto width = static_cast<std::uint64_t>(vips_image_get_width(header.get()));
  const auto height = static_cast<std::uint64_t>(vips_image_get_height(header.get()));
  if (width * height > limits_.max_pixels) {
    throw ThumbnailError(Kind::too_large, std::string(format_name(*format)) + " image of " +
                                              std::to_string(width) + "x" + std::to_string(height) +
                                              " pixels is over the thumbnail limit of " +
                                              std::to_string(limits_.max_pixels) + " pixels");
  }
  const bool has_alpha = vips_image_hasalpha(header.get()) != FALSE;
  const DecodeSlot slot;  // held until the thumbnail is encoded

  // 4. Decode (shrink-on-load for JPEG/WebP, streaming for PNG/GIF) and
  //    resize. The loader's fail_on=truncated turns a cut-off upload into an
  //    error rather than a thumbnail with a grey bottom; libvips 8.14 passes
  //    thumbnail's own fail_on to file loaders but not to buffer loaders, so
  //    it goes in the loader's option string.
  VipsImage* resized = nullptr;
  void* data = const_cast<char*>(source.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  const int rc =
      size.method == ThumbnailMethod::crop
          ? vips_thumbnail_buffer(data, source.size(), &resized, size.width, "height", size.height,
                                  "size", VIPS_SIZE_DOWN, "crop", VIPS_INTERESTING_CENTRE,
                                  "option_string", kLoadOptions, nullptr)
          : vips_thumbnail_buffer(data, source.size(), &resized, size.width, "height", size.height,
                                  "size", VIPS_SIZE_DOWN, "option_string", kLoadOptions, nullptr);
  if (rc != 0 || resized == nullptr) {
    throw ThumbnailError(Kind::failed, std::string("cannot decode ") + format_name(*format) +
                                           " image: " + take_vips_error());
  }
  const Image image(resized);

  // 5. Encode. libvips evaluates lazily, so decoding errors in the pixel
  //    data (truncation) surface here.
  const bool png = has_alpha || *format == Format::png || *format == Format::gif;
  void* buffer = nullptr;
  std::size_t length = 0;
  const int saved = png ? vips_pngsave_buffer(image.get(), &buffer, &length, "strip", TRUE, nullptr)
                        : vips_jpegsave_buffer(image.get(), &buffer, &length, "Q", kJpegQuality,
                                               "strip", TRUE, "optimize_coding", TRUE, nullptr);
  const std::unique_ptr<void, GFree> owned(buffer);
  if (saved != 0 || buffer == nullptr) {
    throw ThumbnailError(Kind::failed, std::string("cannot make a thumbnail of ") +
                                           format_name(*format) + " image: " + take_vips_error());
  }
  Thumbnail thumbnail;
  thumbnail.bytes.assign(static_cast<const char*>(buffer), length);
  thumbnail.content_type = png ? "image/png" : "image/jpeg";
  thumbnail.width = vips_image_get_width(image.get());
  thumbnail.height = vips_image_get_height(image.get());
  return thumbnail;
}

}  // namespace eltrix::media
