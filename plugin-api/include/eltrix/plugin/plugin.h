// Everything a plugin author includes, and the ELTRIX_PLUGIN macro.
//
// A plugin is one shared object with one exported symbol:
//
//   // plugin.cpp
//   #include <eltrix/plugin/plugin.h>
//   #include "my_cache.h"
//   constexpr eltrix::plugin::ConfigKeySpec kKeys[] = {{.name = "cache.mine.size", ...}};
//   ELTRIX_PLUGIN(cache, "mine", "1.0.0", MyCache, kKeys)
//
// `MyCache` derives from eltrix::plugin::Cache and has a constructor
// `MyCache(eltrix::plugin::Host&, const eltrix::plugin::Config&)`. It may
// declare `static constexpr const char* kDescription`, `static constexpr
// std::uint64_t kCapabilities`, `static constexpr bool kThreadSafe`, and
// `static void validate(const Config&, std::vector<ConfigProblem>&)`, which
// `eltrix --config=check` calls to find what the constructor would refuse,
// without creating anything.
// Build with -fvisibility=hidden: the macro exports the descriptor alone.
#pragma once

#include <eltrix/plugin/abi.h>
#include <eltrix/plugin/cache.h>
#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/component.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/db_routing.h>
#include <eltrix/plugin/descriptor.h>
#include <eltrix/plugin/error.h>
#include <eltrix/plugin/host.h>
#include <eltrix/plugin/media_store.h>

#include <span>

namespace eltrix::plugin {

template <Kind K>
struct KindTraits;
template <>
struct KindTraits<Kind::cache> {
  using Interface = Cache;
};
template <>
struct KindTraits<Kind::media_store> {
  using Interface = MediaStore;
};
template <>
struct KindTraits<Kind::cluster_strategy> {
  using Interface = ClusterStrategy;
};
template <>
struct KindTraits<Kind::db_routing> {
  using Interface = DbRouting;
};

namespace detail {

template <typename Interface, typename Impl>
void* create(Host& host, const Config& config) {
  // Cast to the interface first: the core casts the void* back to Interface*.
  Interface* instance = new Impl(host, config);
  return instance;
}

template <typename Interface>
void destroy(void* instance) noexcept {
  delete static_cast<Interface*>(instance);
}

template <typename Impl>
constexpr const char* description() {
  if constexpr (requires { Impl::kDescription; })
    return Impl::kDescription;
  else
    return "";
}
template <typename Impl>
constexpr std::uint64_t capabilities() {
  if constexpr (requires { Impl::kCapabilities; })
    return Impl::kCapabilities;
  else
    return 0;
}
template <typename Impl>
constexpr std::uint32_t flags() {
  if constexpr (requires { Impl::kThreadSafe; })
    return Impl::kThreadSafe ? kThreadSafe : 0U;
  else
    return 0;
}

template <typename Impl>
void validate(const Config& config, std::vector<ConfigProblem>& problems) {
  Impl::validate(config, problems);
}
template <typename Impl>
constexpr ValidateFn validate_fn() {
  if constexpr (requires(const Config& c, std::vector<ConfigProblem>& p) { Impl::validate(c, p); })
    return &validate<Impl>;
  else
    return nullptr;
}

template <Kind K, typename Impl>
constexpr Descriptor make_descriptor(const char* name, const char* version,
                                     std::span<const ConfigKeySpec> keys) {
  using Interface = typename KindTraits<K>::Interface;
  static_assert(std::is_base_of_v<Interface, Impl>,
                "the implementation must derive from the kind's interface");
  static_assert(std::is_constructible_v<Impl, Host&, const Config&>,
                "the implementation needs a constructor (Host&, const Config&)");
  return Descriptor{
      .prefix = {.magic = kMagic,
                 .abi_major = kAbiMajor,
                 .abi_minor = kAbiMinor,
                 .size = sizeof(Descriptor),
                 .kind = static_cast<std::uint32_t>(K),
                 .name = name,
                 .version = version},
      .description = description<Impl>(),
      .flags = flags<Impl>(),
      .reserved = 0,
      .capabilities = capabilities<Impl>(),
      .config_keys = keys.data(),
      .config_key_count = keys.size(),
      .create = &create<Interface, Impl>,
      .destroy = &destroy<Interface>,
      .validate = validate_fn<Impl>(),
  };
}

}  // namespace detail
}  // namespace eltrix::plugin

/// Defines the plugin's descriptor. KIND is one of cache, media_store,
/// cluster_strategy, db_routing; KEYS is an array of ConfigKeySpec or {}.
/// constinit guarantees the descriptor is constant data: loading the plugin
/// to read it runs none of the plugin's code.
#define ELTRIX_PLUGIN(KIND, NAME, VERSION, IMPL, KEYS)                               \
  extern "C" ELTRIX_PLUGIN_EXPORT __attribute__((                                    \
      section("eltrix_plugin"),                                                      \
      used)) constinit const ::eltrix::plugin::Descriptor eltrix_plugin_descriptor = \
      ::eltrix::plugin::detail::make_descriptor<::eltrix::plugin::Kind::KIND, IMPL>( \
          NAME, VERSION, std::span<const ::eltrix::plugin::ConfigKeySpec>(KEYS));
