#include "plugins/library.h"

#include "plugins/registry.h"

#include <fmt/format.h>
#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <system_error>

namespace eltrix::plugins {
namespace {

namespace fs = std::filesystem;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out.empty() ? "none" : out;
}

void check_elf_symbol(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw LoadError(fmt::format("{}: not found or not a regular file", path.string()));
  }
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(boost::dll::fs::path(path.string()), true);
    auto sections = info.sections();
    if (std::find(sections.begin(), sections.end(), plugin::kDescriptorSection) == sections.end()) {
      throw LoadError(fmt::format(
          "{} is not an Eltrix plugin: it has no '{}' section, expected one holding the symbol "
          "'{}' (is it built with ELTRIX_PLUGIN?)",
          path.string(), plugin::kDescriptorSection, plugin::kDescriptorSymbol));
    }
    symbols = info.symbols(plugin::kDescriptorSection);
  } catch (const LoadError&) {
    throw;
  } catch (const std::exception& e) {
    throw LoadError(fmt::format(
        "{} is not an Eltrix plugin: not a readable ELF shared object ({}), expected a .so built "
        "with ELTRIX_PLUGIN",
        path.string(), e.what()));
  }
  // A stripped library (Debian's dh_strip) has no .symtab, so the section
  // lists no symbols; the section itself, which only ELTRIX_PLUGIN creates, is
  // then the evidence, and dlsym checks the exported symbol after loading.
  if (!symbols.empty() &&
      std::find(symbols.begin(), symbols.end(), plugin::kDescriptorSymbol) == symbols.end()) {
    throw LoadError(fmt::format(
        "{} is not an Eltrix plugin: section '{}' holds [{}], expected the symbol '{}'",
        path.string(), plugin::kDescriptorSection, join(symbols), plugin::kDescriptorSymbol));
  }
}

}  // namespace

OpenedLibrary open_library(const fs::path& path) {
  check_elf_symbol(path);
  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    library->load(boost::dll::fs::path(path.string()),
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw LoadError(fmt::format("{}: cannot load the library: {}", path.string(), e.what()));
  }
  if (!library->has(plugin::kDescriptorSymbol)) {
    throw LoadError(
        fmt::format("{}: the symbol '{}' is not exported (built without "
                    "ELTRIX_PLUGIN_EXPORT?)",
                    path.string(), plugin::kDescriptorSymbol));
  }
  OpenedLibrary opened;
  opened.descriptor = &library->get<const plugin::Descriptor>(plugin::kDescriptorSymbol);
  opened.library = std::move(library);
  return opened;
}

std::vector<PluginFile> scan_directories(const std::vector<fs::path>& directories) {
  std::vector<PluginFile> out;
  for (const auto& dir : directories) {
    std::error_code ec;
    std::vector<PluginFile> found;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const auto& p = it->path();
      if (p.extension() != ".so") continue;
      auto parsed = parse_file_stem(p.stem().string());
      if (!parsed) continue;
      found.push_back(PluginFile{p, parsed->first, parsed->second});
    }
    std::sort(found.begin(), found.end(),
              [](const PluginFile& a, const PluginFile& b) { return a.path < b.path; });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

Inspection inspect(const fs::path& path) {
  Inspection result;
  result.path = path;
  try {
    OpenedLibrary opened = open_library(path);
    result.prefix = read_prefix(*opened.descriptor);
    PluginInfo info;
    if (auto problem = check_descriptor(*opened.descriptor, info)) {
      result.problem = *problem;
    } else {
      info.path = path;
      info.origin = path.string();
      result.info = std::move(info);
      result.library = opened.library;
    }
  } catch (const std::exception& e) {
    result.problem = e.what();
  }
  return result;
}

}  // namespace eltrix::plugins
