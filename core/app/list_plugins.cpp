#include "app/list_plugins.h"

#include "plugins/descriptor_check.h"
#include "plugins/library.h"

#include <fmt/format.h>

namespace eltrix::app {

std::string list_plugins(const std::vector<std::filesystem::path>& directories) {
  std::string dirs;
  for (const auto& dir : directories) dirs += (dirs.empty() ? "" : ", ") + dir.string();
  std::string out = fmt::format("Plugin directories: {}\n", dirs);
  out += fmt::format("{:<18} {:<12} {:<10} {:<8} {:<8} {}\n", "KIND", "NAME", "VERSION", "ABI",
                     "STATUS", "PATH");
  const auto files = plugins::scan_directories(directories);
  std::vector<std::string> notes;
  for (const auto& file : files) {
    auto inspection = plugins::inspect(file.path);
    std::string kind(plugin::kind_name(file.kind));
    std::string name = file.name;
    std::string version = "?";
    std::string abi = "?";
    if (inspection.prefix && inspection.prefix->magic == plugin::kMagic) {
      const auto& p = *inspection.prefix;
      name = p.name;
      version = p.version;
      abi = fmt::format("{}.{}", p.abi_major, p.abi_minor);
      kind = std::string(plugin::kind_name(static_cast<plugin::Kind>(p.kind)));
    }
    std::string status = inspection.problem.empty() ? "ok" : "refused";
    out += fmt::format("{:<18} {:<12} {:<10} {:<8} {:<8} {}\n", kind, name, version, abi, status,
                       file.path.string());
    if (!inspection.problem.empty()) notes.push_back(inspection.problem);
  }
  if (files.empty()) out += "(no plugins found)\n";
  for (const auto& note : notes) out += "refused: " + note + "\n";
  out += fmt::format("This Eltrix loads plugins built for plugin ABI {}.0 to {}.{}.\n",
                     plugin::kAbiMajor, plugin::kAbiMajor, plugin::kAbiMinor);
  return out;
}

}  // namespace eltrix::app
