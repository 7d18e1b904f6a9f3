// S3 error answers: the XML body's Code/Message/RequestId, whether retrying
// may help, and the plugin::Error the core sees.
#pragma once

#include <eltrix/plugin/error.h>

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::media_s3 {

struct S3ErrorInfo {
  int status = 0;          ///< HTTP status; 0 for a connection failure or timeout
  std::string code;        ///< "NoSuchBucket", "SignatureDoesNotMatch", ... or "" when unknown
  std::string message;     ///< S3's message, or the connection error
  std::string request_id;  ///< x-amz-request-id / <RequestId>, when given

  /// 5xx, 429, SlowDown, RequestTimeout, InternalError, or a connection
  /// failure / timeout: retrying later may succeed.
  [[nodiscard]] bool retryable() const;
  /// "SignatureDoesNotMatch (HTTP 403): <message> [request id X]"; the code is
  /// "HTTP 403 Forbidden" when the answer had no XML body (HEAD).
  [[nodiscard]] std::string describe() const;
};

/// The text of the first <tag> element of an XML document (any depth, no
/// namespace prefix), or nullopt when absent or when `xml` is not XML.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

/// Reads Code, Message and RequestId from an S3 <Error> document (fields stay
/// empty when `body` is not one).
S3ErrorInfo parse_error(int status, std::string_view body, std::string_view request_id_header);

/// plugin::Error "media-store-s3: <op> '<key>': <describe()>", transient when
/// retryable(), else permanent.
plugin::Error to_plugin_error(const S3ErrorInfo& info, std::string_view op, std::string_view key);

}  // namespace eltrix::media_s3
