#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <stdexcept>

namespace eltrix::media_s3::sigv4 {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trims leading and trailing blanks and collapses inner runs of spaces to one,
// as the canonical header value rules say.
std::string trim_collapse(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string Scope::str() const {
  return date + "/" + region + "/" + service + "/aws4_request";
}

std::string uri_encode(std::string_view raw, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4U];
      out += kHex[c & 0xFU];
    }
  }
  return out;
}

std::string encode_path(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  return uri_encode(raw_path, true);
}

std::string canonical_query(const Pairs& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  // Sorted by encoded name, then encoded value (byte order).
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

CanonicalHeaders canonical_headers(const Pairs& headers) {
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    auto key = lower(trim_collapse(name));
    auto [it, inserted] = merged.try_emplace(key, trim_collapse(value));
    if (!inserted) it->second.append(",").append(trim_collapse(value));
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block.append(name).append(":").append(value).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  return out;
}

std::string canonical_request(const Request& request) {
  auto headers = canonical_headers(request.headers);
  std::string out;
  out += request.method;
  out += '\n';
  out += encode_path(request.path);
  out += '\n';
  out += canonical_query(request.query);
  out += '\n';
  out += headers.block;
  out += '\n';
  out += headers.signed_headers;
  out += '\n';
  out += request.payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope.str();
  out += '\n';
  out += sha256_hex(canonical_request);
  return out;
}

std::array<unsigned char, 32> signing_key(std::string_view secret_key, const Scope& scope) {
  auto as_view = [](const std::array<unsigned char, 32>& bytes) {
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  std::string first = "AWS4";
  first += secret_key;
  auto date_key = hmac_sha256(first, scope.date);
  // Do not keep the secret in a string longer than needed.
  std::fill(first.begin(), first.end(), '\0');
  auto region_key = hmac_sha256(as_view(date_key), scope.region);
  auto service_key = hmac_sha256(as_view(region_key), scope.service);
  return hmac_sha256(as_view(service_key), "aws4_request");
}

Signed sign(const Request& request, const Credentials& credentials, std::string_view amz_date,
            const Scope& scope) {
  return sign_with_key(request, credentials.access_key, signing_key(credentials.secret_key, scope),
                       amz_date, scope);
}

Signed sign_with_key(const Request& request, std::string_view access_key,
                     const std::array<unsigned char, 32>& key, std::string_view amz_date,
                     const Scope& scope) {
  Signed out;
  out.canonical_request = canonical_request(request);
  out.string_to_sign = string_to_sign(amz_date, scope, out.canonical_request);
  auto mac = hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                         out.string_to_sign);
  out.signature = hex(mac.data(), mac.size());
  out.authorization = std::string(kAlgorithm) + " Credential=" + std::string(access_key) + "/" +
                      scope.str() +
                      ", SignedHeaders=" + canonical_headers(request.headers).signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[20];
  std::size_t n = std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buffer, n);
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4U];
    out += kHex[data[i] & 0xFU];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sigv4: SHA-256 failed");
  }
  return hex(digest, length);
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &length) == nullptr ||
      length != out.size()) {
    throw std::runtime_error("sigv4: HMAC-SHA256 failed");
  }
  return out;
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(context_), EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
    throw std::runtime_error("sigv4: cannot start SHA-256");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
}

void Sha256::update(const char* data, std::size_t size) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), data, size) != 1) {
    throw std::runtime_error("sigv4: SHA-256 update failed");
  }
}

std::string Sha256::finish_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(context_);
  if (EVP_DigestFinal_ex(ctx, digest, &length) != 1 ||
      EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sigv4: SHA-256 final failed");
  }
  return hex(digest, length);
}

}  // namespace eltrix::media_s3::sigv4
