#include "listing.h"

#include "object_key.h"

#include <eltrix/plugin/media_store.h>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Exception.h>
#include <Poco/SAX/SAXException.h>

#include <charconv>
#include <ctime>

namespace eltrix::media_s3 {
namespace {

Poco::AutoPtr<Poco::XML::Document> parse(std::string_view xml) {
  Poco::XML::DOMParser parser;
  // Only well-formed, self-contained documents: no external entities.
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  return parser.parseMemory(xml.data(), xml.size());
}

/// The element's name without a namespace prefix.
std::string local_name(const Poco::XML::Element& element) {
  const std::string& name = element.nodeName();
  const auto colon = name.find(':');
  return colon == std::string::npos ? name : name.substr(colon + 1);
}

/// The text of the first direct child element `tag` of `parent` ("" if none).
std::string child_text(const Poco::XML::Element& parent, const std::string& tag) {
  const Poco::XML::Element* child = parent.getChildElement(tag);
  return child == nullptr ? std::string() : child->innerText();
}

template <typename Int>
bool parse_int(std::string_view text, Int& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::optional<std::int64_t> parse_s3_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  std::tm tm{};
  int year = 0;
  int month = 0;
  int ms = 0;
  if (!parse_int(text.substr(0, 4), year) || !parse_int(text.substr(5, 2), month) ||
      !parse_int(text.substr(8, 2), tm.tm_mday) || !parse_int(text.substr(11, 2), tm.tm_hour) ||
      !parse_int(text.substr(14, 2), tm.tm_min) || !parse_int(text.substr(17, 2), tm.tm_sec)) {
    return std::nullopt;
  }
  std::string_view fraction = text.substr(19, text.size() - 20);
  if (!fraction.empty()) {
    if (fraction.front() != '.' || fraction.size() < 2) return std::nullopt;
    std::string digits(fraction.substr(1, 3));
    while (digits.size() < 3) digits += '0';
    if (!parse_int(std::string_view(digits), ms)) return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  const std::time_t seconds = ::timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(seconds) * 1000 + ms;
}

std::optional<ObjectListing> parse_object_listing(std::string_view xml) {
  try {
    auto document = parse(xml);
    const Poco::XML::Element* root = document->documentElement();
    if (root == nullptr || local_name(*root) != "ListBucketResult") return std::nullopt;
    ObjectListing out;
    Poco::AutoPtr<Poco::XML::NodeList> contents = root->getElementsByTagName("Contents");
    for (unsigned long i = 0; i < contents->length(); ++i) {
      const auto* item = dynamic_cast<const Poco::XML::Element*>(contents->item(i));
      if (item == nullptr) continue;
      ListedObject object;
      object.s3_key = child_text(*item, "Key");
      object.modified_ms = parse_s3_time(child_text(*item, "LastModified")).value_or(0);
      if (!parse_int(std::string_view(child_text(*item, "Size")), object.size)) object.size = 0;
      if (!object.s3_key.empty()) out.objects.push_back(std::move(object));
    }
    if (child_text(*root, "IsTruncated") == "true") {
      out.next_continuation_token = child_text(*root, "NextContinuationToken");
    }
    return out;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::optional<UploadListing> parse_upload_listing(std::string_view xml) {
  try {
    auto document = parse(xml);
    const Poco::XML::Element* root = document->documentElement();
    if (root == nullptr || local_name(*root) != "ListMultipartUploadsResult") return std::nullopt;
    UploadListing out;
    Poco::AutoPtr<Poco::XML::NodeList> uploads = root->getElementsByTagName("Upload");
    for (unsigned long i = 0; i < uploads->length(); ++i) {
      const auto* item = dynamic_cast<const Poco::XML::Element*>(uploads->item(i));
      if (item == nullptr) continue;
      ListedUpload upload{.s3_key = child_text(*item, "Key"),
                          .upload_id = child_text(*item, "UploadId"),
                          .initiated_ms = 0};
      // An upload whose start cannot be read is never taken as old.
      auto initiated = parse_s3_time(child_text(*item, "Initiated"));
      if (!initiated || upload.s3_key.empty() || upload.upload_id.empty()) continue;
      upload.initiated_ms = *initiated;
      out.uploads.push_back(std::move(upload));
    }
    if (child_text(*root, "IsTruncated") == "true") {
      out.next_key_marker = child_text(*root, "NextKeyMarker");
      out.next_upload_id_marker = child_text(*root, "NextUploadIdMarker");
    }
    return out;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::string media_key_of(std::string_view s3_key) {
  std::string key;
  key.reserve(s3_key.size());
  for (std::size_t i = 0; i < s3_key.size(); ++i) {
    if (s3_key[i] == '~' && i + 1 < s3_key.size() && s3_key[i + 1] == '/') {
      ++i;  // "~/" joins the pieces of a long segment
      continue;
    }
    key += s3_key[i];
  }
  // Only a key that maps back to exactly this object is ours.
  if (!plugin::is_valid_object_key(key) || s3_object_key(key) != s3_key) return {};
  return key;
}

}  // namespace eltrix::media_s3
