// Documents generated from the declared keys: the commented eltrix.conf
// (`--config=default`, etc/eltrix.conf) and docs/config-reference.md.
#pragma once

#include "config/schema.h"

#include <string>

namespace eltrix::config {

std::string render_conf_file(const Schema& schema);
std::string render_markdown(const Schema& schema);

/// "integer (1..1000)", "one of text, json", ...
std::string describe_type(const Key& key);

}  // namespace eltrix::config
