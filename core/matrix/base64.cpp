#include "matrix/base64.h"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace eltrix::matrix {

namespace {

std::string encode(std::string_view bytes, int variant) {
  // sodium_base64_ENCODED_LEN counts the terminating NUL that libsodium writes.
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);
  return out;
}

/// Both alphabets in one table; mixing them in one string is rejected separately.
constexpr std::array<std::int16_t, 256> kDecode = [] {
  std::array<std::int16_t, 256> table{};
  table.fill(-1);
  for (int i = 0; i < 26; ++i) {
    table['A' + i] = static_cast<std::int16_t>(i);
    table['a' + i] = static_cast<std::int16_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) table['0' + i] = static_cast<std::int16_t>(52 + i);
  table['+'] = table['-'] = 62;
  table['/'] = table['_'] = 63;
  return table;
}();

}  // namespace

std::string encode_base64_unpadded(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

std::string encode_base64_urlsafe_unpadded(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    if (pad > 2 || text.size() % 4 != 0) return std::nullopt;
    text.remove_suffix(pad);
  }
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot end a byte

  std::string out;
  out.reserve(text.size() * 3 / 4);
  bool standard = false, urlsafe = false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = kDecode[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    standard = standard || c == '+' || c == '/';
    urlsafe = urlsafe || c == '-' || c == '_';
    acc = (acc << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (standard && urlsafe) return std::nullopt;
  // Leftover bits are ignored rather than required to be zero, as Python's
  // decoder (and so Synapse) does: the spec's own signing-key test vector
  // "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1" ends in non-zero spare bits.
  return out;
}

}  // namespace eltrix::matrix
