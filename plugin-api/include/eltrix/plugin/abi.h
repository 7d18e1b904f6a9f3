// The plugin ABI: version numbers, the descriptor magic and the plugin kinds.
//
// Rules (see docs/plugin-authors.md):
//  - appending a virtual method to an interface, or a field to the end of the
//    Descriptor, bumps kAbiMinor; the core calls the new method only on plugins
//    that declare at least that minor version;
//  - any other change (reordering, removing, changing a signature) bumps kAbiMajor.
#pragma once

#include <cstdint>
#include <string_view>

#define ELTRIX_PLUGIN_EXPORT __attribute__((visibility("default")))

namespace eltrix::plugin {

/// "ELTX" in little-endian byte order; the first four bytes of every descriptor.
inline constexpr std::uint32_t kMagic = 0x58544c45U;
inline constexpr std::uint16_t kAbiMajor = 1;
// 1.1: MediaStore::list() and MediaStore::remove_abandoned_uploads().
inline constexpr std::uint16_t kAbiMinor = 1;

/// Name of the one symbol every plugin exports, and the ELF section it lives in.
inline constexpr const char* kDescriptorSymbol = "eltrix_plugin_descriptor";
inline constexpr const char* kDescriptorSection = "eltrix_plugin";

/// The backend kinds. Values are part of the frozen descriptor prefix.
enum class Kind : std::uint32_t {
  cache = 1,
  media_store = 2,
  cluster_strategy = 3,
  db_routing = 4,
};

/// The kind's name as used in file names (`<kind>-<name>.so`) and messages.
constexpr std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::cache: return "cache";
    case Kind::media_store: return "media-store";
    case Kind::cluster_strategy: return "cluster-strategy";
    case Kind::db_routing: return "db-routing";
  }
  return "unknown";
}

/// Every kind, in a stable order, for listings.
inline constexpr Kind kAllKinds[] = {Kind::cache, Kind::media_store, Kind::cluster_strategy,
                                     Kind::db_routing};

}  // namespace eltrix::plugin
