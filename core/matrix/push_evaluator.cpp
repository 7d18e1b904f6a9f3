#include "matrix/push_evaluator.h"

#include "matrix/push_rules.h"

#include <charconv>

namespace eltrix::matrix {
namespace {

using json = nlohmann::json;

/// UTF-8 text as code points; a malformed byte stands for itself, so any
/// input decodes (event content is valid UTF-8 JSON text anyway).
std::vector<char32_t> code_points(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (extra == 0 || i + extra >= text.size()) {  // ASCII, or cut short
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = c & (0x3F >> extra);
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (next & 0x3F);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

/// Case folding for the match: ASCII only. (Synapse folds all of Unicode;
/// the difference is letters outside ASCII in mentions and keywords.)
char32_t fold(char32_t c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/// The spec's word characters: [A-Za-z0-9_]; everything else is a boundary.
bool is_word(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Token {
  enum Kind { literal, one, any } kind;
  char32_t c = 0;
};

std::vector<Token> glob_tokens(std::string_view pattern, bool literal_only) {
  std::vector<Token> out;
  for (char32_t c : code_points(pattern)) {
    if (!literal_only && c == '*') {
      if (out.empty() || out.back().kind != Token::any) out.push_back({Token::any});
    } else if (!literal_only && c == '?') {
      out.push_back({Token::one});
    } else {
      out.push_back({Token::literal, fold(c)});
    }
  }
  return out;
}

/// Adds `state` and what it reaches without consuming ('*' matching nothing).
void enter(std::vector<char>& states, const std::vector<Token>& tokens, std::size_t state) {
  while (state <= tokens.size() && states[state] == 0) {
    states[state] = 1;
    if (state == tokens.size() || tokens[state].kind != Token::any) break;
    ++state;
  }
}

/// One pass over the value simulating the pattern's automaton: O(value x
/// pattern) whatever the input, so a long body cannot make matching slow.
bool tokens_match(const std::vector<Token>& tokens, std::string_view value, bool words) {
  const auto text = code_points(value);
  const std::size_t m = tokens.size();
  std::vector<char> states(m + 1, 0);
  std::vector<char> next(m + 1, 0);
  for (std::size_t p = 0;; ++p) {
    const bool at_start_boundary = p == 0 || (words && !is_word(text[p - 1]));
    if (at_start_boundary) enter(states, tokens, 0);
    const bool at_end_boundary = p == text.size() || (words && !is_word(text[p]));
    if (states[m] != 0 && at_end_boundary) return true;
    if (p == text.size()) return false;
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    const char32_t c = fold(text[p]);
    for (std::size_t s = 0; s < m; ++s) {
      if (states[s] == 0) continue;
      const Token& t = tokens[s];
      if (t.kind == Token::any) {
        enter(next, tokens, s);
        any = true;
      } else if (t.kind == Token::one || t.c == c) {
        enter(next, tokens, s + 1);
        any = true;
      }
    }
    states.swap(next);
    // Whole-value matching ends when nothing is alive; word matching may
    // start again at a later boundary.
    if (!any && !words) return false;
  }
}

const json* property(const json& event, std::string_view path) {
  auto keys = split_property_path(path);
  if (!keys || keys->empty()) return nullptr;
  const json* at = &event;
  for (const auto& key : *keys) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

bool is_plain(const json& value) {
  return value.is_string() || value.is_number_integer() || value.is_boolean() || value.is_null();
}

bool member_count_matches(const json& is, std::int64_t count) {
  if (!is.is_string()) return false;
  std::string_view text = is.get_ref<const std::string&>();
  std::string_view op = "==";
  for (std::string_view candidate : {"==", "<=", ">=", "<", ">"}) {
    if (text.substr(0, candidate.size()) == candidate) {
      op = candidate;
      text.remove_prefix(candidate.size());
      break;
    }
  }
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  if (op == "==") return count == n;
  if (op == "<=") return count <= n;
  if (op == ">=") return count >= n;
  if (op == "<") return count < n;
  return count > n;
}

bool condition_matches(const json& condition, const json& event, const PushContext& context) {
  if (!condition.is_object()) return false;
  const std::string kind = condition.value("kind", "");
  if (kind == "event_match") {
    const auto key = condition.find("key");
    const auto pattern = condition.find("pattern");
    if (key == condition.end() || !key->is_string() || pattern == condition.end() ||
        !pattern->is_string()) {
      return false;
    }
    const json* value = property(event, key->get_ref<const std::string&>());
    if (value == nullptr || !value->is_string()) return false;
    return push_glob_matches(pattern->get_ref<const std::string&>(),
                             value->get_ref<const std::string&>(), *key == "content.body");
  }
  if (kind == "event_property_is" || kind == "event_property_contains") {
    const auto key = condition.find("key");
    const auto wanted = condition.find("value");
    if (key == condition.end() || !key->is_string() || wanted == condition.end() ||
        !is_plain(*wanted)) {
      return false;
    }
    const json* value = property(event, key->get_ref<const std::string&>());
    if (value == nullptr) return false;
    if (kind == "event_property_is") return is_plain(*value) && *value == *wanted;
    if (!value->is_array()) return false;
    for (const auto& item : *value) {
      if (is_plain(item) && item == *wanted) return true;
    }
    return false;
  }
  if (kind == "contains_display_name") {
    if (context.display_name.empty()) return false;
    const json* body = property(event, "content.body");
    if (body == nullptr || !body->is_string()) return false;
    return tokens_match(glob_tokens(context.display_name, true),
                        body->get_ref<const std::string&>(), true);
  }
  if (kind == "room_member_count") {
    const auto is = condition.find("is");
    return is != condition.end() && member_count_matches(*is, context.member_count);
  }
  if (kind == "sender_notification_permission") {
    const auto key = condition.find("key");
    if (key == condition.end() || !key->is_string()) return false;
    std::int64_t needed = 50;  // the spec's default for "room", and for any key
    if (context.notification_levels.is_object()) {
      auto level = context.notification_levels.find(key->get_ref<const std::string&>());
      if (level != context.notification_levels.end() && level->is_number_integer()) {
        needed = level->get<std::int64_t>();
      }
    }
    return context.sender_power_level >= needed;
  }
  return false;  // unknown kinds never match (spec: "Conditions")
}

bool rule_matches(std::string_view kind, const json& rule, const json& event,
                  const PushContext& context) {
  if (kind == "room") return event.value("room_id", "") == rule.value("rule_id", "");
  if (kind == "sender") return event.value("sender", "") == rule.value("rule_id", "");
  if (kind == "content") {
    const auto pattern = rule.find("pattern");
    const json* body = property(event, "content.body");
    if (pattern == rule.end() || !pattern->is_string() || body == nullptr || !body->is_string())
      return false;
    return push_glob_matches(pattern->get_ref<const std::string&>(),
                             body->get_ref<const std::string&>(), true);
  }
  const auto conditions = rule.find("conditions");
  if (conditions == rule.end()) return true;
  if (!conditions->is_array()) return false;
  for (const auto& condition : *conditions) {
    if (!condition_matches(condition, event, context)) return false;
  }
  return true;
}

bool is_legacy_mention_rule(std::string_view rule_id) {
  return rule_id == ".m.rule.contains_display_name" || rule_id == ".m.rule.roomnotif" ||
         rule_id == ".m.rule.contains_user_name";
}

void apply_actions(const json& actions, PushDecision& decision) {
  if (!actions.is_array()) return;
  decision.actions = actions;
  bool highlight = false;
  for (const auto& action : actions) {
    if (action == "notify") decision.notify = true;
    // "dont_notify" and "coalesce" are no-ops (spec: "Actions").
    if (!action.is_object()) continue;
    const auto tweak = action.find("set_tweak");
    if (tweak == action.end() || !tweak->is_string()) continue;
    const std::string& name = tweak->get_ref<const std::string&>();
    const auto value = action.find("value");
    if (name == "highlight") {
      // No value means true (spec: "Tweaks").
      highlight = value == action.end() || (value->is_boolean() && value->get<bool>());
      decision.tweaks["highlight"] = highlight;
    } else {
      if (name == "sound" && value != action.end() && value->is_string()) {
        decision.sound = value->get<std::string>();
      }
      decision.tweaks[name] = value == action.end() ? json(nullptr) : *value;
    }
  }
  // A highlight that does not notify is not counted or pushed.
  decision.highlight = decision.notify && highlight;
}

}  // namespace

std::optional<std::vector<std::string>> split_property_path(std::string_view path) {
  std::vector<std::string> keys(1);
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '\\') {
      if (i + 1 < path.size() && (path[i + 1] == '.' || path[i + 1] == '\\')) {
        keys.back() += path[++i];
      } else {
        keys.back() += c;  // a lone backslash is itself (spec: only \. and \\ escape)
      }
    } else if (c == '.') {
      keys.emplace_back();
    } else {
      keys.back() += c;
    }
  }
  for (const auto& key : keys) {
    if (key.empty()) return std::nullopt;
  }
  return keys;
}

bool push_glob_matches(std::string_view pattern, std::string_view value, bool words) {
  return tokens_match(glob_tokens(pattern, false), value, words);
}

PushDecision evaluate_push_rules(const json& ruleset, const json& event,
                                 const PushContext& context) {
  PushDecision decision;
  if (event.value("sender", "") == context.user_id) return decision;
  const auto global = ruleset.find("global");
  if (global == ruleset.end() || !global->is_object()) return decision;
  // An event with intentional mentions (m.mentions) is judged by them alone:
  // the legacy rules that search the body for names are skipped (spec:
  // "User and room mentions").
  const json* mentions = property(event, "content.m\\.mentions");
  const bool intentional = mentions != nullptr && mentions->is_object();
  for (std::string_view kind : kPushRuleKinds) {
    const auto rules = global->find(std::string(kind));
    if (rules == global->end() || !rules->is_array()) continue;
    for (const auto& rule : *rules) {
      if (!rule.is_object() || !rule.value("enabled", true)) continue;
      if (intentional && is_legacy_mention_rule(rule.value("rule_id", ""))) continue;
      if (!rule_matches(kind, rule, event, context)) continue;
      decision.rule_id = rule.value("rule_id", "");
      decision.kind = std::string(kind);
      apply_actions(rule.value("actions", json::array()), decision);
      return decision;
    }
  }
  return decision;
}

}  // namespace eltrix::matrix
