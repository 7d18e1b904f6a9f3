// AWS Signature Version 4 (header-based authentication), as pure functions.
//
// Nothing here does I/O or reads a clock: callers pass the request, the time
// stamp and the credentials, so every step (canonical request, string to
// sign, signing key, Authorization header) is checked against the published
// AWS test-suite vectors in tests/contract/impl/media_store_s3_sigv4_test.cpp.
//
// Paths and query parameters are given *raw* (not yet percent-encoded) and are
// encoded exactly once, as S3 requires (S3 is the one service whose canonical
// URI is not the already-encoded path encoded a second time). The request
// itself must then be sent with the same encoding: use encode_path() and
// canonical_query() to build its target.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::media_s3::sigv4 {

/// The payload hash of a request whose body is not signed (x-amz-content-sha256).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method{};        ///< "GET", "PUT", ...
  std::string path = "/";      ///< raw path, '/'-separated, starting with '/'
  Pairs query{};               ///< raw names and values, in any order
  Pairs headers{};             ///< names in any case; every one given is signed
  std::string payload_hash{};  ///< lowercase hex SHA-256 of the body, or kUnsignedPayload
};

struct Credentials {
  std::string access_key;
  std::string secret_key;
};

/// Where a signature is valid: the date part of the time stamp, region and service.
struct Scope {
  std::string date;  ///< YYYYMMDD
  std::string region;
  std::string service;                    ///< "s3" for S3
  [[nodiscard]] std::string str() const;  ///< "date/region/service/aws4_request"
};

/// RFC 3986 percent-encoding as SigV4 defines it: unreserved characters
/// (A-Z a-z 0-9 - . _ ~) stay, every other byte becomes %XX (upper-case hex);
/// '/' stays only when `keep_slash`.
std::string uri_encode(std::string_view raw, bool keep_slash);

/// The path as sent and as signed: each segment encoded once, '/' kept.
std::string encode_path(std::string_view raw_path);

/// Query parameters encoded and sorted by name, then value, joined with '&'
/// ("" for none). Also the query string to send.
std::string canonical_query(const Pairs& query);

struct CanonicalHeaders {
  std::string block;           ///< "name:value\n" lines, names lower-cased and sorted
  std::string signed_headers;  ///< "name;name;..."
};
/// Lower-cases names, trims values and collapses inner runs of spaces, joins
/// repeated names' values with ',' in the order given, sorts by name.
CanonicalHeaders canonical_headers(const Pairs& headers);

std::string canonical_request(const Request& request);
std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request);

/// kSecret = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request".
std::array<unsigned char, 32> signing_key(std::string_view secret_key, const Scope& scope);

/// The full "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." value.
/// `request.headers` must already hold host and x-amz-date (and for S3
/// x-amz-content-sha256), since those are signed.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;
};
Signed sign(const Request& request, const Credentials& credentials, std::string_view amz_date,
            const Scope& scope);
/// The same with the signing key already derived for `scope` (it changes only
/// with the date, so a client derives it once a day rather than per request).
Signed sign_with_key(const Request& request, std::string_view access_key,
                     const std::array<unsigned char, 32>& key, std::string_view amz_date,
                     const Scope& scope);

/// "YYYYMMDDTHHMMSSZ" (UTC) for `when`.
std::string amz_date(std::chrono::system_clock::time_point when);

/// Lowercase hex.
std::string hex(const unsigned char* data, std::size_t size);
std::string sha256_hex(std::string_view data);
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data);

/// Incremental SHA-256 (a part is hashed as it is read from the source).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) = delete;
  Sha256& operator=(Sha256&&) = delete;

  void update(const char* data, std::size_t size);
  /// The lowercase hex digest; the object is reset for a new message.
  std::string finish_hex();

 private:
  void* context_;  // EVP_MD_CTX, kept out of this header
};

}  // namespace eltrix::media_s3::sigv4
