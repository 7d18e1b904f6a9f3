// Test images made with libvips itself, so the thumbnail tests need no binary
// fixtures: raw pixels in, encoded bytes out, and back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace eltrix::media::test {

struct Pixels {
  int width = 0;
  int height = 0;
  int bands = 0;                   // 3 = RGB, 4 = RGBA
  std::vector<std::uint8_t> data;  // interleaved, row by row

  const std::uint8_t* at(int x, int y) const {
    return &data[(static_cast<std::size_t>(y) * width + x) * bands];
  }
};

/// width x height pixels whose bands are given by `colour(x, y, band)`.
Pixels make_pixels(int width, int height, int bands,
                   const std::function<std::uint8_t(int, int, int)>& colour);

/// A smooth RGB gradient (compresses realistically, unlike noise or flat colour).
Pixels gradient(int width, int height, int bands = 3);

/// Encodes with libvips: "png", "jpeg", "jpeg-progressive", "gif" or "webp".
std::string encode(const Pixels& pixels, const std::string& format);

/// A JPEG carrying EXIF (ImageDescription "eltrix-secret-exif") and XMP
/// ("eltrix-secret-xmp") metadata, to check that thumbnails strip it.
std::string encode_jpeg_with_metadata(const Pixels& pixels);

/// Decodes any image libvips reads (for checking thumbnails).
Pixels decode(const std::string& bytes);

/// A valid 30000x30000 1-bit greyscale PNG of about 110 KB: 900 megapixels
/// (3.6 GB as RGBA) behind a tiny file. Built once per test run (~1.5 s).
const std::string& decompression_bomb_png();

}  // namespace eltrix::media::test
