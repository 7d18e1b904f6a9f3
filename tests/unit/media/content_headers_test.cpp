#include "media/content_headers.h"

#include <catch2/catch.hpp>

using namespace eltrix::media;

TEST_CASE("content types are normalized or refused", "[media]") {
  CHECK(normalize_content_type("image/PNG") == "image/png");
  CHECK(normalize_content_type(" Text/Plain ; Charset=UTF-8 ") == "text/plain; charset=utf-8");
  CHECK(normalize_content_type("text/plain; format=flowed; charset=\"utf-8\"") ==
        "text/plain; charset=utf-8");
  CHECK(normalize_content_type("application/octet-stream; name=x") == "application/octet-stream");
  CHECK(normalize_content_type("text/html; charset=<script>") == "text/html");
  CHECK_FALSE(normalize_content_type(""));
  CHECK_FALSE(normalize_content_type("garbage"));
  CHECK_FALSE(normalize_content_type("text/"));
  CHECK_FALSE(normalize_content_type("/plain"));
  CHECK_FALSE(normalize_content_type("te xt/plain"));
  CHECK_FALSE(normalize_content_type("text/plain/x"));
  CHECK_FALSE(normalize_content_type("text/pl\r\nain"));
}

TEST_CASE("only a short allow-list is shown inline", "[media]") {
  for (const char* safe : {"image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4",
                           "audio/ogg", "text/plain", "text/plain; charset=utf-8"}) {
    CHECK(is_inline_safe(safe));
  }
  for (const char* unsafe :
       {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/pdf",
        "application/javascript", "text/javascript", "application/octet-stream", "text/css",
        "image/png+html", "text/plainx"}) {
    CHECK_FALSE(is_inline_safe(unsafe));
  }
}

TEST_CASE("file names that may be stored", "[media]") {
  CHECK(is_acceptable_file_name("photo.png"));
  CHECK(is_acceptable_file_name("résumé final (2).pdf"));
  CHECK(is_acceptable_file_name(".."));  // harmless: only ever a header value
  CHECK_FALSE(is_acceptable_file_name(""));
  CHECK_FALSE(is_acceptable_file_name("a/b"));
  CHECK_FALSE(is_acceptable_file_name("a\\b"));
  CHECK_FALSE(is_acceptable_file_name(std::string("a\0b", 3)));
  CHECK_FALSE(is_acceptable_file_name("line\r\nbreak"));
  CHECK_FALSE(is_acceptable_file_name("\xff\xfe"));
  CHECK_FALSE(is_acceptable_file_name(std::string(256, 'x')));
  CHECK(is_acceptable_file_name(std::string(255, 'x')));
}

TEST_CASE("Content-Disposition per RFC 6266 and RFC 5987", "[media]") {
  CHECK(content_disposition("image/png", "") == "inline");
  CHECK(content_disposition("text/html", "") == "attachment");
  CHECK(content_disposition("image/png", "cat.png") ==
        "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png");
  CHECK(content_disposition("application/pdf", "naïve \"x\";y.pdf") ==
        "attachment; filename=\"na__ve _x_;y.pdf\"; "
        "filename*=UTF-8''na%C3%AFve%20%22x%22%3By.pdf");
  CHECK(content_disposition("text/plain", "100%.txt") ==
        "inline; filename=\"100%.txt\"; filename*=UTF-8''100%25.txt");
}

TEST_CASE("security headers", "[media]") {
  bool csp = false;
  bool nosniff = false;
  for (const auto& [name, value] : security_headers()) {
    if (name == "Content-Security-Policy") csp = value.rfind("sandbox;", 0) == 0;
    if (name == "X-Content-Type-Options") nosniff = value == "nosniff";
  }
  CHECK(csp);
  CHECK(nosniff);
}
