#include "contract/harness.h"

#include "contract/built_plugins.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace eltrix::contract {

std::filesystem::path plugin_file(std::string_view stem) {
  std::string file_name = std::string(stem) + ".so";
  if (const char* dir = std::getenv("ELTRIX_TEST_PLUGIN_DIR"); dir != nullptr && *dir != '\0') {
    return std::filesystem::path(dir) / file_name;
  }
  for (const auto& path : built_plugin_files()) {
    if (path.filename() == file_name) return path;
  }
  throw std::runtime_error("no plugin file " + file_name + " in this build");
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "eltrix-contract-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  // Restore permissions a test may have removed, so the tree can be deleted.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ignored);
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> files_under(const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_directory()) out.push_back(entry.path().lexically_relative(root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

std::uint64_t next_word(std::uint64_t& state) {
  state ^= state >> 12U;
  state ^= state << 25U;
  state ^= state >> 27U;
  return state * 0x2545f4914f6cdd1dULL;
}

std::uint64_t seed_state(std::uint64_t seed) {
  return seed * 0x9e3779b97f4a7c15ULL + 1;
}

}  // namespace

std::string pseudo_random_bytes(std::uint64_t seed, std::size_t size) {
  PseudoRandomSource source(seed, size, size == 0 ? 1 : size);
  std::string out(size, '\0');
  std::size_t filled = 0;
  while (filled < size) filled += source.read(out.data() + filled, size - filled);
  return out;
}

PseudoRandomSource::PseudoRandomSource(std::uint64_t seed, std::uint64_t size, std::size_t chunk)
    : state_(seed_state(seed)), remaining_(size), chunk_(chunk == 0 ? 1 : chunk) {}

std::size_t PseudoRandomSource::read(char* buffer, std::size_t capacity) {
  auto count = static_cast<std::size_t>(std::min<std::uint64_t>({capacity, chunk_, remaining_}));
  for (std::size_t i = 0; i < count; ++i) {
    if (word_bytes_ == 0) {
      word_ = next_word(state_);
      word_bytes_ = 8;
    }
    buffer[i] = static_cast<char>(word_ & 0xFFU);
    word_ >>= 8U;
    --word_bytes_;
  }
  remaining_ -= count;
  return count;
}

std::size_t StringSource::read(char* buffer, std::size_t capacity) {
  std::size_t count = std::min({capacity, chunk_, data_.size() - position_});
  std::memcpy(buffer, data_.data() + position_, count);
  position_ += count;
  return count;
}

std::size_t ThrowingSource::read(char* buffer, std::size_t capacity) {
  if (remaining_ == 0) throw std::runtime_error("source failed");
  auto count = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, remaining_));
  std::memset(buffer, 'x', count);
  remaining_ -= count;
  return count;
}

std::string drain(plugin::ByteSource& source, std::size_t buffer_size) {
  std::string out;
  std::string buffer(buffer_size, '\0');
  while (std::size_t got = source.read(buffer.data(), buffer.size())) out.append(buffer, 0, got);
  return out;
}

}  // namespace eltrix::contract
