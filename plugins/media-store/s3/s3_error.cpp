#include "s3_error.h"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/SAX/SAXException.h>

namespace eltrix::media_s3 {

bool S3ErrorInfo::retryable() const {
  if (status == 0 || status >= 500 || status == 429) return true;
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable" || code == "RequestTimeTooSkewed";
}

std::string S3ErrorInfo::describe() const {
  std::string out;
  if (status == 0) {
    out = "connection failed: " + message;
    return out;
  }
  out = code.empty() ? "HTTP " + std::to_string(status)
                     : code + " (HTTP " + std::to_string(status) + ")";
  if (!message.empty()) out += ": " + message;
  if (!request_id.empty()) out += " [request id " + request_id + "]";
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  if (xml.empty()) return std::nullopt;
  try {
    Poco::XML::DOMParser parser;
    // Only well-formed, self-contained documents: no external entities.
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    Poco::AutoPtr<Poco::XML::Document> document = parser.parseMemory(xml.data(), xml.size());
    Poco::AutoPtr<Poco::XML::NodeList> nodes = document->getElementsByTagName(std::string(tag));
    if (nodes->length() == 0) return std::nullopt;
    return nodes->item(0)->innerText();
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

S3ErrorInfo parse_error(int status, std::string_view body, std::string_view request_id_header) {
  S3ErrorInfo info;
  info.status = status;
  info.request_id = std::string(request_id_header);
  if (auto code = xml_text(body, "Code")) info.code = *code;
  if (auto message = xml_text(body, "Message")) info.message = *message;
  if (info.request_id.empty()) {
    if (auto id = xml_text(body, "RequestId")) info.request_id = *id;
  }
  // Keep messages one short line whatever the server sent.
  if (info.message.size() > 300) info.message = info.message.substr(0, 300) + "...";
  for (char& c : info.message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return info;
}

plugin::Error to_plugin_error(const S3ErrorInfo& info, std::string_view op, std::string_view key) {
  std::string message = "media-store-s3: " + std::string(op);
  if (!key.empty()) message += " '" + std::string(key) + "'";
  message += ": " + info.describe();
  return {info.retryable() ? plugin::ErrorKind::transient : plugin::ErrorKind::permanent, message};
}

}  // namespace eltrix::media_s3
