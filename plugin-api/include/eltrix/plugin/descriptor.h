// The plugin descriptor: the one exported symbol of every plugin.
//
// The core reads the frozen prefix before anything else, so any Eltrix can
// identify and report any plugin, including one built for a future ABI. Only
// after the prefix checks out does it look at the rest.
#pragma once

#include <eltrix/plugin/abi.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace eltrix::plugin {

/// Never changes, in any ABI version. Beyond the four fields DESIGN.md asks for,
/// it also freezes kind, name and version so that `eltrix --list-plugins` can
/// name a plugin whose ABI it cannot load.
struct DescriptorPrefix {
  std::uint32_t magic;      ///< kMagic
  std::uint16_t abi_major;  ///< kAbiMajor the plugin was built with
  std::uint16_t abi_minor;  ///< kAbiMinor the plugin was built with
  std::uint32_t size;       ///< sizeof(Descriptor) as the plugin saw it
  std::uint32_t kind;       ///< a Kind value
  const char* name;         ///< "local", "redis", ...: [a-z0-9_]+
  const char* version;      ///< the plugin's own version, free text
};

enum DescriptorFlags : std::uint32_t {
  /// Every interface method may be called from several threads at once.
  /// Without it the core serialises calls.
  kThreadSafe = 1U << 0U,
};

/// Creates the instance. Returns a pointer to the kind's interface (Cache*,
/// MediaStore*, ...) cast to void*. May throw; the core catches everything.
using CreateFn = void* (*)(Host& host, const Config& config);
/// Destroys an instance made by CreateFn.
using DestroyFn = void (*)(void* instance) noexcept;

/// Checks the configuration without creating anything and without side
/// effects (no connections, no directories), so `eltrix --config=check` can
/// report what the constructor would refuse. Appends every problem. Optional.
using ValidateFn = void (*)(const Config& config, std::vector<ConfigProblem>& problems);

struct Descriptor {
  DescriptorPrefix prefix;
  // ---- ABI 1.0 ----
  const char* description;     ///< one line, for listings
  std::uint32_t flags;         ///< DescriptorFlags
  std::uint32_t reserved;      ///< zero
  std::uint64_t capabilities;  ///< per-kind bits, see the kind's header
  const ConfigKeySpec* config_keys;
  std::size_t config_key_count;
  CreateFn create;
  DestroyFn destroy;
  ValidateFn validate;  ///< may be null
  // New fields go here, with a kAbiMinor bump.
};

// The layout is the ABI: fail the build rather than ship a silent change.
static_assert(std::is_standard_layout_v<DescriptorPrefix>);
static_assert(std::is_standard_layout_v<Descriptor>);
static_assert(offsetof(DescriptorPrefix, magic) == 0);
static_assert(offsetof(DescriptorPrefix, abi_major) == 4);
static_assert(offsetof(DescriptorPrefix, abi_minor) == 6);
static_assert(offsetof(DescriptorPrefix, size) == 8);
static_assert(offsetof(DescriptorPrefix, kind) == 12);
static_assert(offsetof(DescriptorPrefix, name) == 16);
static_assert(offsetof(DescriptorPrefix, version) == 24);
static_assert(sizeof(DescriptorPrefix) == 32);
static_assert(offsetof(Descriptor, description) == 32);
static_assert(offsetof(Descriptor, capabilities) == 48);
static_assert(offsetof(Descriptor, create) == 72);
static_assert(offsetof(Descriptor, validate) == 88);
static_assert(sizeof(Descriptor) == 96);

/// Smallest descriptor size valid for ABI 1.0.
inline constexpr std::uint32_t kDescriptorSizeV1_0 = 96;

}  // namespace eltrix::plugin
