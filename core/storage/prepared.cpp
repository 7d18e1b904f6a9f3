#include "storage/prepared.h"

#include <fmt/format.h>

#include <cstdint>
#include <functional>

namespace eltrix::storage::detail {

std::string statement_name(std::string_view sql) {
  // FNV-1a next to libstdc++'s hash: independent enough that two texts of
  // this program sharing both is not a concern (the texts are ours, not an
  // attacker's).
  std::uint64_t fnv = 14695981039346656037ULL;
  for (const char c : sql) {
    fnv ^= static_cast<unsigned char>(c);
    fnv *= 1099511628211ULL;
  }
  return fmt::format("e{:016x}{:016x}", fnv,
                     static_cast<std::uint64_t>(std::hash<std::string_view>{}(sql)));
}

bool prepared_statement_lost(std::string_view sqlstate) {
  return sqlstate == "26000" || sqlstate == "42P05";
}

std::optional<std::string> PreparedNames::name_for(std::string_view sql) {
  std::string name = statement_name(sql);
  std::lock_guard lock(mutex_);
  if (names_.count(name) != 0) return name;
  if (names_.size() >= limit_) return std::nullopt;
  names_.insert(name);
  return name;
}

}  // namespace eltrix::storage::detail
