#include "http/body.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

namespace eltrix::http {

bool parse_json(const std::string& text, Poco::Dynamic::Var& out) {
  if (text.empty()) return false;
  try {
    Poco::JSON::Parser parser;
    out = parser.parse(text);
    return true;
  } catch (const Poco::Exception&) {
  }
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var wrapped = parser.parse("[" + text + "]");
    auto array = wrapped.extract<Poco::JSON::Array::Ptr>();
    if (array && array->size() == 1) {
      out = array->get(0);
      return true;
    }
  } catch (const Poco::Exception&) {
  }
  return false;
}

/// Reads and drops up to `max` bytes; true if the stream ended within them.
bool discard(std::istream& in, std::size_t max) {
  char buf[8192];
  std::size_t total = 0;
  while (total <= max) {
    in.read(buf, sizeof(buf));
    const auto got = static_cast<std::size_t>(in.gcount());
    total += got;
    if (got < sizeof(buf)) return in.eof() && total <= max;
  }
  return false;
}

}  // namespace eltrix::http
