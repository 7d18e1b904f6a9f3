// Thumbnail generation time per standard size, for scripts/bench/thumbnails.
//
//   thumbnail-bench [iterations] [width] [height]
//
// Encodes a photo-like JPEG (gradient plus noise, Q90) and a PNG of the same
// pixels, then times Thumbnailer::make() for each standard size: wall time,
// process CPU time (less sensitive to a busy machine) and the peak resident
// memory a call adds (Linux: the high-water mark is reset through
// /proc/self/clear_refs, after malloc_trim, before each call).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
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

double cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// VmHWM or VmRSS from /proc/self/status, in KiB.
long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// Returns freed heap to the system first, so that memory a previous call
// freed (and malloc kept) does not hide what the next one needs.
void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void bench(const Thumbnailer& thumbnailer, const std::string& label, const std::string& source,
           const std::string& type, int iterations) {
  std::printf("%s: %zu bytes\n", label.c_str(), source.size());
  std::printf("  %-14s %9s %9s %9s %9s %12s\n", "size", "wall ms", "min ms", "cpu ms", "+peak MB",
              "output");
  for (const ThumbnailSize& size : standard_sizes()) {
    std::vector<double> wall;
    std::vector<double> cpu;
    long peak_kib = 0;
    Thumbnail last;
    for (int i = 0; i < iterations; ++i) {
      reset_peak_rss();
      const long before_kib = status_kib("VmRSS");
      const double cpu_start = cpu_ms();
      const auto start = std::chrono::steady_clock::now();
      last = thumbnailer.make(source, type, size);
      wall.push_back(ms_since(start));
      cpu.push_back(cpu_ms() - cpu_start);
      peak_kib = std::max(peak_kib, status_kib("VmHWM") - before_kib);
    }
    const std::string name = std::to_string(size.width) + "x" + std::to_string(size.height) +
                             (size.method == ThumbnailMethod::crop ? " crop" : " scale");
    std::printf("  %-14s %9.1f %9.1f %9.1f %9.1f %6dx%-4d %s %zu B\n", name.c_str(), median(wall),
                *std::min_element(wall.begin(), wall.end()), median(cpu),
                static_cast<double>(peak_kib) / 1024.0, last.width, last.height,
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
  const std::string jpeg = test::encode(pixels, "jpeg");
  const std::string progressive = test::encode(pixels, "jpeg-progressive");
  const std::string png = test::encode(pixels, "png");
  bench(thumbnailer, "JPEG Q90", jpeg, "image/jpeg", iterations);
  bench(thumbnailer, "progressive JPEG Q90", progressive, "image/jpeg", iterations);
  bench(thumbnailer, "PNG", png, "image/png", iterations);
  return 0;
}
