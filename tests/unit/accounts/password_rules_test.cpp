#include "accounts/password_rules.h"

#include "config/config.h"
#include "config/core_keys.h"
#include "errors/error.h"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

using namespace eltrix;

namespace {

/// The errcode `fn` throws as a domain error, "none" if it returns.
std::string error_code(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const errors::Error& e) {
    CHECK(e.kind() == errors::Kind::invalid);
    return e.errcode();
  }
  return "none";
}

}  // namespace

TEST_CASE("password policy errors are M_WEAK_PASSWORD") {
  config::Schema schema;
  config::add_core_keys(schema);
  auto config = config::Config::resolve(
      schema, {}, [](const std::string&) { return std::optional<std::string>(); });
  const auto policy = accounts::password_policy(config);
  CHECK(policy.min_length == 8);
  CHECK(error_code([&] { accounts::require_password_policy(policy, "short"); }) ==
        "M_WEAK_PASSWORD");
  CHECK(error_code([&] { accounts::require_password_policy(policy, "long enough"); }) == "none");
}
