#include "config/glob.hpp"

#include <fnmatch.h>

#include "caf/sec.hpp"

namespace istio_csr::config {

namespace {

caf::error bad(std::string why) {
  return caf::make_error(caf::sec::invalid_argument, std::move(why));
}

} // namespace

caf::error validate_glob(std::string_view pattern) {
  if (pattern.empty())
    return bad("empty pattern");
  for (size_t i = 0; i < pattern.size(); ++i) {
    auto c = pattern[i];
    if (c == '\\') {
      if (++i == pattern.size())
        return bad("pattern ends with an escape ('\\')");
      continue;
    }
    if (c != '[')
      continue;
    // A bracket expression: an optional negation, then at least one
    // character (a ']' right at the start is one), up to the closing ']'.
    auto j = i + 1;
    if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^'))
      ++j;
    if (j < pattern.size() && pattern[j] == ']')
      ++j;
    while (j < pattern.size() && pattern[j] != ']')
      ++j;
    if (j == pattern.size())
      return bad("unclosed '[' at offset " + std::to_string(i));
    i = j;
  }
  return {};
}

bool glob_matches(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

} // namespace istio_csr::config
