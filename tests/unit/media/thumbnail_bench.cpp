// Thumbnail generation time per standard size, for scripts/bench/thumbnails.
//
//   thumbnail-bench [iterations] [width] [height]
//
// Encodes a photo-like JPEG (gradient plus noise, Q90) and a PNG of the same
// pixels, then times Thumbnailer::make() for each standard size.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "media/thumbnailer.h"
#include "unit/media/test_images.h"

using namespace eltrix::media;

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void bench(const Thumbnailer& thumbnailer, const std::string& label, const std::string& source,
           const std::string& type, int iterations) {
  std::printf("%s: %zu bytes\n", label.c_str(), source.size());
  std::printf("  %-14s %10s %10s %10s %12s\n", "size", "median ms", "min ms", "max ms", "output");
  for (const ThumbnailSize& size : standard_sizes()) {
    std::vector<double> times;
    Thumbnail last;
    for (int i = 0; i < iterations; ++i) {
      const auto start = std::chrono::steady_clock::now();
      last = thumbnailer.make(source, type, size);
      times.push_back(ms_since(start));
    }
    std::sort(times.begin(), times.end());
    const std::string name = std::to_string(size.width) + "x" + std::to_string(size.height) +
                             (size.method == ThumbnailMethod::crop ? " crop" : " scale");
    std::printf("  %-14s %10.1f %10.1f %10.1f %6dx%-4d %s %zu B\n", name.c_str(),
                times[times.size() / 2], times.front(), times.back(), last.width, last.height,
                last.content_type.c_str(), last.bytes.size());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const int width = argc > 2 ? std::atoi(argv[2]) : 4000;
  const int height = argc > 3 ? std::atoi(argv[3]) : 3000;
  std::mt19937 random(7);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible input
  std::uniform_int_distribution<int> noise(-12, 12);
  const auto pixels = test::make_pixels(width, height, 3, [&](int x, int y, int band) {
    const int base = band == 0 ? x * 255 / width : band == 1 ? y * 255 / height : 128;
    return static_cast<std::uint8_t>(std::clamp(base + noise(random), 0, 255));
  });
  const Thumbnailer thumbnailer(ThumbnailLimits{});
  std::printf("thumbnail-bench: %d iterations per size, source %dx%d\n", iterations, width, height);
  bench(thumbnailer, "JPEG Q90", test::encode(pixels, "jpeg"), "image/jpeg", iterations);
  bench(thumbnailer, "PNG", test::encode(pixels, "png"), "image/png", iterations);
  return 0;
}
