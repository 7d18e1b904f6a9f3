#include "matrix/base64.h"

#include <sodium.h>

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

}  // namespace

std::string encode_base64_unpadded(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

std::string encode_base64_urlsafe_unpadded(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> decode_base64(std::string_view text) {
  // Padding is checked here and stripped, so that one libsodium variant per
  // alphabet handles both forms.
  std::size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    if (pad > 2 || text.size() % 4 != 0) return std::nullopt;
    text.remove_suffix(pad);
  }

  bool standard = false, urlsafe = false;
  for (const char c : text) {
    if (c == '+' || c == '/') standard = true;
    if (c == '-' || c == '_') urlsafe = true;
  }
  if (standard && urlsafe) return std::nullopt;
  const int variant = urlsafe ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                              : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;

  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &written, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(written);
  return out;
}

}  // namespace eltrix::matrix
