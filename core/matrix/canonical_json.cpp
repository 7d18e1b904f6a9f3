#include "matrix/canonical_json.h"

#include "matrix/utf8.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace eltrix::matrix {

namespace {

using nlohmann::json;

/// The integer a JSON number stands for, or why it has none in canonical JSON.
struct Integer {
  std::int64_t value = 0;
  const char* problem = nullptr;
};

constexpr const char* kOutOfRange =
    "integer out of range: canonical JSON allows only [-(2**53)+1, (2**53)-1]";

Integer to_integer(const json& number) {
  switch (number.type()) {
    case json::value_t::number_integer: {
      const auto v = number.get<std::int64_t>();
      if (v < kCanonicalJsonMinInt || v > kCanonicalJsonMaxInt) return {0, kOutOfRange};
      return {v, nullptr};
    }
    case json::value_t::number_unsigned: {
      const auto v = number.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(kCanonicalJsonMaxInt)) return {0, kOutOfRange};
      return {static_cast<std::int64_t>(v), nullptr};
    }
    case json::value_t::number_float: {
      const double v = number.get<double>();
      if (!std::isfinite(v)) return {0, "NaN and infinite numbers are not allowed"};
      if (std::trunc(v) != v) return {0, "non-integer number: floats are not allowed"};
      // 2^53-1 is exactly representable, so this comparison is exact. Accepting
      // integral floats is what the spec's own example ({"b": 1e10}) requires;
      // the cast also turns -0.0 into 0, as the spec demands.
      if (std::fabs(v) > static_cast<double>(kCanonicalJsonMaxInt)) return {0, kOutOfRange};
      return {static_cast<std::int64_t>(v), nullptr};
    }
    default: return {0, "not a number"};
  }
}

/// Appends `s` (already checked to be UTF-8) as a JSON string literal. Python's
/// json.dumps(ensure_ascii=False) escapes only '"', '\\' and C0 controls, using
/// the short forms where JSON has them and lowercase \u00XX otherwise; DEL and
/// '/' stay literal.
void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

/// Where in the value a problem was found, as a dot-separated property path
/// (spec appendix "Dot-separated property paths"), plus what the problem is.
struct Problem {
  std::string what;
  std::string path;
};

std::string escape_path_segment(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (c == '.' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string prefix_path(std::string head, const std::string& rest) {
  if (!rest.empty() && rest.front() != '[') head.push_back('.');
  return head + rest;
}

/// One walk serves both serialising (out != null) and validating (out == null),
/// so the two can never disagree about what is acceptable.
class Walker {
 public:
  Walker(std::string* out, std::size_t max_depth) : out_(out), max_depth_(max_depth) {}

  std::optional<Problem> walk(const json& v, std::size_t depth) {
    switch (v.type()) {
      case json::value_t::null: emit("null"); return std::nullopt;
      case json::value_t::boolean: emit(v.get<bool>() ? "true" : "false"); return std::nullopt;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float: {
        const Integer i = to_integer(v);
        if (i.problem) return Problem{i.problem, {}};
        if (out_) {
          char buf[24];
          const auto r = std::to_chars(buf, buf + sizeof buf, i.value);
          out_->append(buf, r.ptr);
        }
        return std::nullopt;
      }
      case json::value_t::string: {
        const auto& s = v.get_ref<const std::string&>();
        if (!detail::is_valid_utf8(s)) return Problem{"string is not valid UTF-8", {}};
        if (out_) append_string(*out_, s);
        return std::nullopt;
      }
      case json::value_t::array: {
        if (depth >= max_depth_) return Problem{"JSON nested too deeply", {}};
        emit("[");
        std::size_t index = 0;
        for (const auto& element : v) {
          if (index > 0) emit(",");
          if (auto p = walk(element, depth + 1)) {
            p->path = prefix_path("[" + std::to_string(index) + "]", p->path);
            return p;
          }
          ++index;
        }
        emit("]");
        return std::nullopt;
      }
      case json::value_t::object: {
        if (depth >= max_depth_) return Problem{"JSON nested too deeply", {}};
        emit("{");
        bool first = true;
        // nlohmann::json keeps object members in a std::map<std::string>, whose
        // byte-wise order is code point order for UTF-8: exactly the required sort.
        for (const auto& [key, member] : v.items()) {
          if (!first) emit(",");
          first = false;
          std::optional<Problem> p;
          if (!detail::is_valid_utf8(key)) p = Problem{"key is not valid UTF-8", {}};
          if (!p) {
            if (out_) {
              append_string(*out_, key);
              out_->push_back(':');
            }
            p = walk(member, depth + 1);
          }
          if (p) {
            p->path = prefix_path(escape_path_segment(key), p->path);
            return p;
          }
        }
        emit("}");
        return std::nullopt;
      }
      case json::value_t::binary: return Problem{"binary values cannot be encoded", {}};
      case json::value_t::discarded: return Problem{"discarded value", {}};
    }
    return Problem{"unknown JSON value type", {}};
  }

 private:
  void emit(std::string_view text) {
    if (out_) out_->append(text);
  }

  std::string* out_;
  std::size_t max_depth_;
};

std::string describe(const Problem& p) {
  if (p.path.empty()) return p.what;
  return p.what + " (at " + p.path + ")";
}

}  // namespace

std::string canonical_json(const nlohmann::json& value) {
  std::string out;
  if (auto problem = Walker(&out, kMaxCanonicalJsonDepth).walk(value, 0)) {
    throw std::invalid_argument("cannot encode as canonical JSON: " + describe(*problem));
  }
  return out;
}

bool is_canonical_compatible(const nlohmann::json& value, std::string* why) {
  if (auto problem = Walker(nullptr, kMaxClientJsonDepth).walk(value, 0)) {
    if (why) *why = describe(*problem);
    return false;
  }
  return true;
}

}  // namespace eltrix::matrix
