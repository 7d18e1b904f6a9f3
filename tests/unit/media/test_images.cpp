#include "unit/media/test_images.h"

#include <vips/vips.h>

#include <memory>
#include <stdexcept>

namespace eltrix::media::test {

namespace {

struct Unref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, Unref>;

void ensure_vips() {
  static const int rc = VIPS_INIT("eltrix-tests");
  if (rc != 0) throw std::runtime_error("vips_init failed");
}

std::string fail(const std::string& what) {
  char* message = vips_error_buffer_copy();
  std::string text = what + ": " + (message != nullptr ? message : "");
  g_free(message);
  return text;
}

std::string take_buffer(void* buffer, std::size_t length) {
  std::string bytes(static_cast<const char*>(buffer), length);
  g_free(buffer);
  return bytes;
}

}  // namespace

Pixels make_pixels(int width, int height, int bands,
                   const std::function<std::uint8_t(int, int, int)>& colour) {
  Pixels pixels{width, height, bands, {}};
  pixels.data.resize(static_cast<std::size_t>(width) * height * bands);
  std::size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int b = 0; b < bands; ++b) pixels.data[i++] = colour(x, y, b);
    }
  }
  return pixels;
}

Pixels gradient(int width, int height, int bands) {
  return make_pixels(width, height, bands, [width, height](int x, int y, int b) {
    switch (b) {
      case 0: return static_cast<std::uint8_t>(x * 255 / width);
      case 1: return static_cast<std::uint8_t>(y * 255 / height);
      case 2: return static_cast<std::uint8_t>(128);
      default: return static_cast<std::uint8_t>(200);  // alpha
    }
  });
}

namespace {
Image to_image(const Pixels& pixels) {
  ensure_vips();
  Image image(vips_image_new_from_memory_copy(pixels.data.data(), pixels.data.size(), pixels.width,
                                              pixels.height, pixels.bands, VIPS_FORMAT_UCHAR));
  if (!image) throw std::runtime_error(fail("vips_image_new_from_memory_copy"));
  image->Type = VIPS_INTERPRETATION_sRGB;
  return image;
}
}  // namespace

std::string encode_jpeg_with_metadata(const Pixels& pixels) {
  const Image image = to_image(pixels);
  vips_image_set_string(image.get(), "exif-ifd0-ImageDescription", "eltrix-secret-exif");
  static const char xmp[] =
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
      "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">eltrix-secret-xmp</rdf:RDF>"
      "</x:xmpmeta>";
  vips_image_set_blob_copy(image.get(), "xmp-data", xmp, sizeof(xmp) - 1);
  void* buffer = nullptr;
  std::size_t length = 0;
  if (vips_jpegsave_buffer(image.get(), &buffer, &length, nullptr) != 0) {
    throw std::runtime_error(fail("encode jpeg with metadata"));
  }
  return take_buffer(buffer, length);
}

std::string encode(const Pixels& pixels, const std::string& format) {
  const Image image = to_image(pixels);
  void* buffer = nullptr;
  std::size_t length = 0;
  int rc = -1;
  if (format == "png") {
    rc = vips_pngsave_buffer(image.get(), &buffer, &length, nullptr);
  } else if (format == "jpeg") {
    rc = vips_jpegsave_buffer(image.get(), &buffer, &length, "Q", 90, nullptr);
  } else if (format == "jpeg-progressive") {
    rc = vips_jpegsave_buffer(image.get(), &buffer, &length, "Q", 90, "interlace", TRUE, nullptr);
  } else if (format == "gif") {
    rc = vips_gifsave_buffer(image.get(), &buffer, &length, nullptr);
  } else if (format == "webp") {
    rc = vips_webpsave_buffer(image.get(), &buffer, &length, nullptr);
  } else {
    throw std::invalid_argument("unknown format " + format);
  }
  if (rc != 0) throw std::runtime_error(fail("encode " + format));
  return take_buffer(buffer, length);
}

Pixels decode(const std::string& bytes) {
  ensure_vips();
  Image image(vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr));
  if (!image) throw std::runtime_error(fail("decode"));
  VipsImage* cast = nullptr;
  if (vips_cast_uchar(image.get(), &cast, nullptr) != 0) throw std::runtime_error(fail("cast"));
  const Image uchar(cast);
  std::size_t size = 0;
  void* memory = vips_image_write_to_memory(uchar.get(), &size);
  if (memory == nullptr) throw std::runtime_error(fail("write_to_memory"));
  Pixels pixels{vips_image_get_width(uchar.get()),
                vips_image_get_height(uchar.get()),
                vips_image_get_bands(uchar.get()),
                {}};
  pixels.data.assign(static_cast<std::uint8_t*>(memory), static_cast<std::uint8_t*>(memory) + size);
  g_free(memory);
  return pixels;
}

const std::string& decompression_bomb_png() {
  static const std::string bomb = [] {
    ensure_vips();
    VipsImage* black = nullptr;
    if (vips_black(&black, 30000, 30000, nullptr) != 0) throw std::runtime_error(fail("black"));
    const Image image(black);
    void* buffer = nullptr;
    std::size_t length = 0;
    if (vips_pngsave_buffer(image.get(), &buffer, &length, "bitdepth", 1, "compression", 9,
                            nullptr) != 0) {
      throw std::runtime_error(fail("bomb pngsave"));
    }
    return take_buffer(buffer, length);
  }();
  return bomb;
}

}  // namespace eltrix::media::test
