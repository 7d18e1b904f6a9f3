#include "sync/sections.h"

#include <catch2/catch.hpp>

#include <regex>

using eltrix::sync::mention_pattern;

TEST_CASE("mention_pattern: whole words, regex characters escaped", "[sync][sections]") {
  CHECK(mention_pattern({}).empty());
  CHECK(mention_pattern({""}).empty());
  CHECK(mention_pattern({"alice"}) == R"((^|\W)(alice)(\W|$))");
  CHECK(mention_pattern({"alice", "Alice L."}) == R"((^|\W)(alice|Alice L\.)(\W|$))");
  CHECK(mention_pattern({"a+b (c)|[d]{e}^$*?\\"}) ==
        R"((^|\W)(a\+b \(c\)\|\[d\]\{e\}\^\$\*\?\\)(\W|$))");

  // PostgreSQL's ARE agrees with ECMAScript on this subset; check the
  // behaviour the SQL relies on.
  std::regex re(mention_pattern({"alice", "Dr. Who"}), std::regex::icase);
  CHECK(std::regex_search("hi alice!", re));
  CHECK(std::regex_search("ALICE", re));
  CHECK(std::regex_search("ask dr. who, please", re));
  CHECK_FALSE(std::regex_search("malice", re));
  CHECK_FALSE(std::regex_search("alicey", re));
  CHECK_FALSE(std::regex_search("dr, who", re));
}
