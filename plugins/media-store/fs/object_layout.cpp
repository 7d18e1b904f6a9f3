#include "object_layout.h"

#include <algorithm>

namespace eltrix::media_fs {
namespace {

constexpr std::string_view kSlashEscape = "%2F";
constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kMinLastChunk = 3;

std::string hex64(std::uint64_t value) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[value & 0xFU];
    value >>= 4U;
  }
  return out;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string escape_key(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 8);
  for (char c : key) {
    if (c == '/') {
      out += kSlashEscape;
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_key(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name.substr(i, kSlashEscape.size()) == kSlashEscape) {
      out += '/';
      i += kSlashEscape.size() - 1;
    } else {
      out += name[i];
    }
  }
  return out;
}

std::string object_relative_path(std::string_view key) {
  const std::string hash = hex64(fnv1a64(key));
  std::string name = escape_key(key);
  std::string out;
  out.reserve(name.size() + name.size() / kMaxNameChunk * 2 + 8);
  out.append(hash, 0, 2).append("/").append(hash, 2, 2).append("/");
  std::string_view rest(name);
  while (rest.size() > kMaxNameChunk) {
    // Keep the last chunk at least kMinLastChunk long so it is never "." or "..".
    std::size_t take = std::min(kMaxNameChunk, rest.size() - kMinLastChunk);
    out.append(rest.substr(0, take)).append("%/");
    rest.remove_prefix(take);
  }
  out.append(rest);
  return out;
}

std::string key_from_relative_path(std::string_view path) {
  // "hh/hh/" prefix, then chunks.
  if (path.size() < 7 || path[2] != '/' || path[5] != '/') return {};
  std::string_view rest = path.substr(6);
  std::string name;
  while (true) {
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) break;
    auto chunk = rest.substr(0, slash);
    if (chunk.empty() || chunk.back() != '%') return {};
    chunk.remove_suffix(1);
    name.append(chunk);
    rest.remove_prefix(slash + 1);
  }
  if (rest.empty() || rest.back() == '%') return {};
  name.append(rest);
  std::string key = unescape_key(name);
  if (object_relative_path(key) != path) return {};
  return key;
}

}  // namespace eltrix::media_fs
