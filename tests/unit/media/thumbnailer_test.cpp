#include "media/thumbnailer.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "unit/media/test_images.h"

using namespace eltrix::media;
using eltrix::media::test::decode;
using eltrix::media::test::encode;
using eltrix::media::test::gradient;
using eltrix::media::test::make_pixels;
using Kind = ThumbnailError::Kind;

namespace {

const Thumbnailer& thumbnailer() {
  static const Thumbnailer instance(ThumbnailLimits{});
  return instance;
}

// The error kind make() throws, failing the test if it returns.
Kind error_kind(const Thumbnailer& t, const std::string& source, std::string_view type,
                ThumbnailSize size, std::string* message = nullptr) {
  try {
    const Thumbnail made = t.make(source, type, size);
    FAIL("expected ThumbnailError, got a " << made.width << "x" << made.height << " "
                                           << made.content_type);
  } catch (const ThumbnailError& e) {
    if (message != nullptr) *message = e.what();
    return e.kind();
  }
  return Kind::failed;  // unreachable: FAIL throws
}

constexpr ThumbnailSize crop(int w, int h) {
  return {w, h, ThumbnailMethod::crop};
}
constexpr ThumbnailSize scale(int w, int h) {
  return {w, h, ThumbnailMethod::scale};
}

// Expected output of each standard size for a 1000x500 source.
struct Expected {
  ThumbnailSize size;
  int width;
  int height;
};
constexpr Expected kLandscape[] = {
    {crop(32, 32), 32, 32},      {crop(96, 96), 96, 96},      {scale(320, 240), 320, 160},
    {scale(640, 480), 640, 320}, {scale(800, 600), 800, 400},
};

}  // namespace

TEST_CASE("standard sizes are the spec's five, smallest first per method") {
  const auto sizes = standard_sizes();
  REQUIRE(sizes.size() == 5);
  const ThumbnailSize want[] = {crop(32, 32), crop(96, 96), scale(320, 240), scale(640, 480),
                                scale(800, 600)};
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(sizes[i].width == want[i].width);
    CHECK(sizes[i].height == want[i].height);
    CHECK(sizes[i].method == want[i].method);
  }
}

TEST_CASE("choose_size: smallest standard size of the method at least as large, else largest") {
  auto chosen = [](int w, int h, ThumbnailMethod m) {
    const ThumbnailSize s = choose_size(w, h, m);
    CHECK(s.method == m);
    return std::pair{s.width, s.height};
  };
  using M = ThumbnailMethod;
  CHECK(chosen(1, 1, M::crop) == std::pair{32, 32});
  CHECK(chosen(32, 32, M::crop) == std::pair{32, 32});
  CHECK(chosen(33, 10, M::crop) == std::pair{96, 96});
  CHECK(chosen(10, 33, M::crop) == std::pair{96, 96});
  CHECK(chosen(96, 96, M::crop) == std::pair{96, 96});
  CHECK(chosen(200, 200, M::crop) == std::pair{96, 96});  // none large enough: largest crop
  CHECK(chosen(1, 1, M::scale) == std::pair{320, 240});
  CHECK(chosen(320, 240, M::scale) == std::pair{320, 240});
  CHECK(chosen(320, 241, M::scale) == std::pair{640, 480});
  CHECK(chosen(641, 100, M::scale) == std::pair{800, 600});
  CHECK(chosen(800, 600, M::scale) == std::pair{800, 600});
  CHECK(chosen(1920, 1080, M::scale) == std::pair{800, 600});
  CHECK(chosen(0, -5, M::crop) == std::pair{32, 32});
}

TEST_CASE("every standard size of a JPEG and a PNG has the expected dimensions") {
  const auto source = gradient(1000, 500);
  for (const std::string format : {"jpeg", "png"}) {
    const std::string bytes = encode(source, format);
    for (const Expected& e : kLandscape) {
      INFO(format << " " << e.size.width << "x" << e.size.height
                  << (e.size.method == ThumbnailMethod::crop ? " crop" : " scale"));
      const Thumbnail t = thumbnailer().make(bytes, "image/" + format, e.size);
      CHECK(t.width == e.width);
      CHECK(t.height == e.height);
      CHECK(t.content_type == "image/" + format);
      const auto decoded = decode(t.bytes);  // what the bytes really are
      CHECK(decoded.width == e.width);
      CHECK(decoded.height == e.height);
      CHECK(decoded.bands == 3);
    }
  }
}

TEST_CASE("scale keeps the aspect ratio of a tall image and fits the box") {
  const std::string bytes = encode(gradient(300, 900), "jpeg");
  const Thumbnail t = thumbnailer().make(bytes, "image/jpeg", scale(320, 240));
  CHECK(t.width == 80);
  CHECK(t.height == 240);
  const Thumbnail big = thumbnailer().make(bytes, "image/jpeg", scale(800, 600));
  CHECK(big.width == 200);
  CHECK(big.height == 600);
}

TEST_CASE("a source smaller than the box is never upscaled") {
  const std::string bytes = encode(gradient(100, 50), "png");
  const Thumbnail scaled = thumbnailer().make(bytes, "image/png", scale(800, 600));
  CHECK(scaled.width == 100);
  CHECK(scaled.height == 50);
  // crop: fills what it can without enlarging, then cuts to the box
  const Thumbnail cropped = thumbnailer().make(bytes, "image/png", crop(96, 96));
  CHECK(cropped.width == 96);
  CHECK(cropped.height == 50);
  const Thumbnail tiny = thumbnailer().make(encode(gradient(20, 10), "png"), "", crop(32, 32));
  CHECK(tiny.width == 20);
  CHECK(tiny.height == 10);
}

TEST_CASE("crop fills the box exactly and keeps the centre") {
  // 300x100: blue | red | blue. Cropping to a square must keep only red.
  const auto source = make_pixels(300, 100, 3, [](int x, int /*y*/, int band) {
    const bool centre = x >= 100 && x < 200;
    if (band == 0) return static_cast<std::uint8_t>(centre ? 255 : 0);
    if (band == 2) return static_cast<std::uint8_t>(centre ? 0 : 255);
    return static_cast<std::uint8_t>(0);
  });
  for (const std::string format : {"png", "jpeg"}) {
    INFO(format);
    for (const ThumbnailSize size : {crop(32, 32), crop(96, 96)}) {
      const Thumbnail t = thumbnailer().make(encode(source, format), "", size);
      REQUIRE(t.width == size.width);
      REQUIRE(t.height == size.height);
      const auto pixels = decode(t.bytes);
      for (int x : {0, size.width / 2, size.width - 1}) {
        for (int y : {0, size.height - 1}) {
          INFO("pixel " << x << "," << y);
          CHECK(pixels.at(x, y)[0] > 200);  // red
          CHECK(pixels.at(x, y)[2] < 60);   // not blue
        }
      }
    }
  }
  // Non-square box on a tall source: the middle rows survive.
  const auto tall = make_pixels(100, 400, 3, [](int /*x*/, int y, int band) {
    return static_cast<std::uint8_t>(band == 1 && y >= 150 && y < 250 ? 255 : 0);
  });
  const Thumbnail t = thumbnailer().make(encode(tall, "png"), "", crop(50, 40));
  REQUIRE(t.width == 50);
  REQUIRE(t.height == 40);
  const auto pixels = decode(t.bytes);
  CHECK(pixels.at(0, 0)[1] == 255);
  CHECK(pixels.at(49, 39)[1] == 255);
}

TEST_CASE("output format: PNG keeps alpha, JPEG stays JPEG, GIF becomes PNG, WebP by alpha") {
  // Half-transparent RGBA PNG: alpha must survive.
  const auto rgba = make_pixels(400, 300, 4, [](int x, int /*y*/, int band) {
    if (band == 3) return static_cast<std::uint8_t>(x < 200 ? 0 : 255);
    return static_cast<std::uint8_t>(100);
  });
  const Thumbnail png = thumbnailer().make(encode(rgba, "png"), "image/png", scale(320, 240));
  CHECK(png.content_type == "image/png");
  CHECK(png.bytes.substr(1, 3) == "PNG");
  const auto decoded = decode(png.bytes);
  REQUIRE(decoded.bands == 4);
  CHECK(decoded.at(10, 100)[3] == 0);
  CHECK(decoded.at(300, 100)[3] == 255);

  const Thumbnail jpeg =
      thumbnailer().make(encode(gradient(400, 300), "jpeg"), "image/jpeg", crop(96, 96));
  CHECK(jpeg.content_type == "image/jpeg");
  CHECK(jpeg.bytes.substr(0, 3) == "\xFF\xD8\xFF");

  const Thumbnail gif =
      thumbnailer().make(encode(gradient(400, 300), "gif"), "image/gif", scale(320, 240));
  CHECK(gif.content_type == "image/png");
  CHECK(gif.width == 320);
  CHECK(gif.height == 240);

  const Thumbnail webp =
      thumbnailer().make(encode(gradient(400, 300), "webp"), "image/webp", scale(320, 240));
  CHECK(webp.content_type == "image/jpeg");
  CHECK(webp.width == 320);
  const Thumbnail webp_alpha = thumbnailer().make(encode(rgba, "webp"), "image/webp", crop(32, 32));
  CHECK(webp_alpha.content_type == "image/png");
  CHECK(decode(webp_alpha.bytes).bands == 4);
}

TEST_CASE("metadata is stripped from thumbnails") {
  const std::string bytes = test::encode_jpeg_with_metadata(gradient(400, 300));
  REQUIRE(bytes.find("eltrix-secret-exif") != std::string::npos);
  REQUIRE(bytes.find("eltrix-secret-xmp") != std::string::npos);
  for (const ThumbnailSize size : {scale(320, 240), crop(96, 96)}) {
    const Thumbnail t = thumbnailer().make(bytes, "image/jpeg", size);
    CHECK(t.bytes.find("eltrix-secret-exif") == std::string::npos);
    CHECK(t.bytes.find("eltrix-secret-xmp") == std::string::npos);
    CHECK(t.bytes.find("Exif") == std::string::npos);
  }
}

TEST_CASE("a decompression bomb is rejected from its header as too_large") {
  const std::string& bomb = test::decompression_bomb_png();
  CHECK(bomb.size() < 200'000);
  std::string message;
  CHECK(error_kind(thumbnailer(), bomb, "image/png", crop(32, 32), &message) == Kind::too_large);
  CHECK_THAT(message, Catch::Contains("30000x30000"));
  CHECK_THAT(message, Catch::Contains("32000000 pixels"));
}

TEST_CASE("max_pixels applies to every format") {
  const Thumbnailer small(ThumbnailLimits{0, 100 * 100});
  CHECK(error_kind(small, encode(gradient(101, 100), "jpeg"), "image/jpeg", crop(32, 32)) ==
        Kind::too_large);
  CHECK(error_kind(small, encode(gradient(100, 101), "gif"), "image/gif", crop(32, 32)) ==
        Kind::too_large);
  CHECK(small.make(encode(gradient(100, 100), "webp"), "image/webp", crop(32, 32)).width == 32);
}

TEST_CASE("a source over max_source_bytes is rejected before it is looked at") {
  const std::string bytes = encode(gradient(200, 200), "png");
  const Thumbnailer limited(ThumbnailLimits{bytes.size() - 1, 0});
  std::string message;
  CHECK(error_kind(limited, bytes, "image/png", scale(320, 240), &message) == Kind::too_large);
  CHECK_THAT(message, Catch::Contains("bytes"));
  const Thumbnailer exact(ThumbnailLimits{bytes.size(), 0});
  CHECK(exact.make(bytes, "image/png", scale(320, 240)).width == 200);
}

TEST_CASE("truncated images are rejected, not thumbnailed") {
  for (const std::string format : {"jpeg", "png"}) {
    INFO(format);
    const std::string bytes = encode(gradient(800, 600), format);
    const std::string half = bytes.substr(0, bytes.size() / 2);
    std::string message;
    CHECK(error_kind(thumbnailer(), half, "image/" + format, scale(320, 240), &message) ==
          Kind::failed);
    CHECK_THAT(message, Catch::Contains("cannot"));
    // Cut inside the header: unreadable, so not an image.
    CHECK(error_kind(thumbnailer(), bytes.substr(0, 12), "image/" + format, crop(32, 32)) ==
          Kind::not_image);
  }
}

TEST_CASE("text, random bytes, SVG and PDF are not images") {
  std::string message;
  CHECK(error_kind(thumbnailer(), "hello, this is a text file\n", "text/plain", crop(32, 32),
                   &message) == Kind::not_image);
  CHECK_THAT(message, Catch::Contains("not an image"));
  CHECK_THAT(message, Catch::Contains("text/plain"));

  std::mt19937 random(42);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible bytes
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(random() & 0xFF);
  noise[0] = 'x';  // a random first byte could be 0xFF (JPEG's magic)
  CHECK(error_kind(thumbnailer(), noise, "image/png", crop(32, 32)) == Kind::not_image);

  const std::string svg =
      "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" "
      "height=\"500\"><rect width=\"500\" height=\"500\" fill=\"red\"/></svg>\n";
  CHECK(error_kind(thumbnailer(), svg, "image/svg+xml", scale(320, 240), &message) ==
        Kind::not_image);
  CHECK_THAT(message, Catch::Contains("SVG"));
  CHECK(error_kind(thumbnailer(), "%PDF-1.4\n%...", "application/pdf", scale(320, 240)) ==
        Kind::not_image);
  CHECK(error_kind(thumbnailer(), "", "image/png", scale(320, 240)) == Kind::not_image);
  // PNG magic followed by garbage.
  CHECK(error_kind(thumbnailer(), std::string("\x89PNG\r\n\x1A\n", 8) + noise, "image/png",
                   crop(32, 32)) == Kind::not_image);
}

TEST_CASE("invalid box sizes are refused") {
  const std::string bytes = encode(gradient(100, 100), "png");
  CHECK(error_kind(thumbnailer(), bytes, "image/png", scale(0, 240)) == Kind::failed);
  CHECK(error_kind(thumbnailer(), bytes, "image/png", crop(32, -1)) == Kind::failed);
  CHECK(error_kind(thumbnailer(), bytes, "image/png", scale(100000, 100)) == Kind::failed);
}

TEST_CASE("concurrent thumbnails from several threads are all correct") {
  const std::string jpeg = encode(gradient(1200, 600), "jpeg");
  const std::string png = encode(gradient(600, 1200, 4), "png");
  const std::string text = "not an image";
  std::atomic<int> wrong{0};
  std::mutex notes_mutex;
  std::vector<std::string> notes;
  auto note = [&](const std::string& text) {
    const std::lock_guard lock(notes_mutex);
    notes.push_back(text);
  };
  std::atomic<int> done{0};
  // Decoding slots: never more running than the limit, all free afterwards.
  std::atomic<bool> stop{false};
  std::atomic<int> most_running{0};
  std::atomic<int> over_limit{0};
  std::thread monitor([&] {
    while (!stop) {
      const ThumbnailActivity now = thumbnail_activity();
      if (now.running > now.limit) ++over_limit;
      most_running = std::max(most_running.load(), now.running);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const Expected& e = kLandscape[(t + i) % 5];
        try {
          switch ((t + i) % 3) {
            case 0: {  // 1200x600 is 2:1 like kLandscape's source
              const Thumbnail th = thumbnailer().make(jpeg, "image/jpeg", e.size);
              if (th.width != e.width || th.height != e.height || th.content_type != "image/jpeg" ||
                  decode(th.bytes).width != e.width) {
                std::ostringstream text;
                text << "jpeg " << th.width << "x" << th.height << " want " << e.width;
                note(text.str());
                ++wrong;
              }
              break;
            }
            case 1: {  // 600x1200: transposed
              const Thumbnail th = thumbnailer().make(png, "image/png", e.size);
              const bool is_crop = e.size.method == ThumbnailMethod::crop;
              const int w = is_crop ? e.width : e.size.height / 2;
              const int h = is_crop ? e.height : e.size.height;
              if (th.width != w || th.height != h || th.content_type != "image/png" ||
                  decode(th.bytes).bands != 4) {
                std::ostringstream text;
                text << "png " << th.width << "x" << th.height << " want " << w << "x" << h;
                note(text.str());
                ++wrong;
              }
              break;
            }
            default:
              try {
                (void)thumbnailer().make(text, "text/plain", e.size);
                ++wrong;
              } catch (const ThumbnailError& error) {
                if (error.kind() != Kind::not_image) {
                  note(std::string("text: ") + error.what());
                  ++wrong;
                }
              }
          }
        } catch (const std::exception& error) {
          std::ostringstream text;
          text << "thread " << t << " call " << i << ": " << error.what();
          note(text.str());
          ++wrong;
        }
        ++done;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  stop = true;
  monitor.join();
  CHECK(over_limit == 0);
  CHECK(most_running >= 1);
  const ThumbnailActivity after = thumbnail_activity();
  CHECK(after.running == 0);
  CHECK(after.waiting == 0);
  CHECK(after.limit >= 2);
  CHECK(done == 48);
  for (const auto& text : notes) UNSCOPED_INFO(text);
  CHECK(wrong == 0);
}
