#include "kube/api/validation.hpp"

#include <cctype>

#include "caf/message.hpp"
#include "caf/sec.hpp"

#include "kube/api/go_quote.hpp"

namespace istio_csr::kube {

namespace {

// The messages below are the ones of k8s.io/apimachinery/pkg/util/validation
// so that users see what a real API server would tell them.

constexpr std::string_view dns1123_label_fmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

constexpr std::string_view dns1123_subdomain_fmt
  = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

constexpr std::string_view qualified_name_fmt
  = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

constexpr std::string_view label_value_fmt
  = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool matches_dns1123_label(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back()))
    return false;
  for (char c : s)
    if (!is_lower_alnum(c) && c != '-')
      return false;
  return true;
}

bool matches_dns1123_subdomain(std::string_view s) {
  // A sequence of labels separated by single dots.
  while (true) {
    auto dot = s.find('.');
    if (!matches_dns1123_label(s.substr(0, dot)))
      return false;
    if (dot == std::string_view::npos)
      return true;
    s.remove_prefix(dot + 1);
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], i.e. non-empty.
bool matches_qualified_name_part(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back()))
    return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

std::string max_len_error(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

std::string regex_error(std::string_view msg, std::string_view fmt,
                        std::initializer_list<std::string_view> examples) {
  std::string out{msg};
  if (examples.size() > 0) {
    out += " (e.g. ";
    bool first = true;
    for (auto ex : examples) {
      if (!first)
        out += ",  or ";
      first = false;
      out += '\'';
      out += ex;
      out += '\'';
    }
    out += ", regex used for validation is '";
  } else {
    out += " (regex used for validation is '";
  }
  out += fmt;
  out += "')";
  return out;
}

caf::error fold(std::string_view what, std::string_view value,
                const std::vector<std::string>& errors) {
  if (errors.empty())
    return {};
  std::string msg{what};
  msg += ' ';
  msg += go_quote(value);
  msg += " is invalid: ";
  msg += join_errors(errors);
  return caf::make_error(caf::sec::invalid_argument, std::move(msg));
}

} // namespace

std::vector<std::string> dns1123_subdomain_errors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > dns1123_subdomain_max_length)
    errs.emplace_back(max_len_error(dns1123_subdomain_max_length));
  if (!matches_dns1123_subdomain(value))
    errs.emplace_back(
      regex_error("a lowercase RFC 1123 subdomain must consist of lower case "
                  "alphanumeric characters, '-' or '.', and must start and "
                  "end with an alphanumeric character",
                  dns1123_subdomain_fmt, {"example.com"}));
  return errs;
}

std::vector<std::string> dns1123_label_errors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > dns1123_label_max_length)
    errs.emplace_back(max_len_error(dns1123_label_max_length));
  if (!matches_dns1123_label(value))
    errs.emplace_back(
      regex_error("a lowercase RFC 1123 label must consist of lower case "
                  "alphanumeric characters or '-', and must start and end "
                  "with an alphanumeric character",
                  dns1123_label_fmt, {"my-name", "123-abc"}));
  return errs;
}

std::vector<std::string> qualified_name_errors(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  auto slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.emplace_back(
        regex_error("a qualified name must consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with "
                    "an alphanumeric character",
                    qualified_name_fmt, {"MyName", "my.name", "123-abc"})
        + " with an optional DNS subdomain prefix and '/' (e.g. "
          "'example.com/MyName')");
      return errs;
    }
    auto prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.emplace_back("prefix part must be non-empty");
    } else {
      for (auto& e : dns1123_subdomain_errors(prefix))
        errs.emplace_back("prefix part " + e);
    }
  }
  if (name.empty()) {
    errs.emplace_back("name part must be non-empty");
  } else {
    if (name.size() > dns1123_label_max_length)
      errs.emplace_back("name part " + max_len_error(dns1123_label_max_length));
    if (!matches_qualified_name_part(name))
      errs.emplace_back(
        regex_error("name part must consist of alphanumeric characters, '-', "
                    "'_' or '.', and must start and end with an alphanumeric "
                    "character",
                    qualified_name_fmt, {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> label_value_errors(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > label_value_max_length)
    errs.emplace_back(max_len_error(label_value_max_length));
  if (!value.empty() && !matches_qualified_name_part(value))
    errs.emplace_back(
      regex_error("a valid label must be an empty string or consist of "
                  "alphanumeric characters, '-', '_' or '.', and must start "
                  "and end with an alphanumeric character",
                  label_value_fmt, {"MyValue", "my_value", "12345"}));
  return errs;
}

std::vector<std::string>
annotations_errors(const std::map<std::string, std::string>& annotations,
                   std::string_view field_path) {
  std::vector<std::string> errs;
  size_t total = 0;
  for (auto& [key, value] : annotations) {
    std::string lower = key;
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& e : qualified_name_errors(lower)) {
      std::string msg{field_path};
      msg += ": Invalid value: ";
      msg += go_quote(key);
      msg += ": ";
      msg += e;
      errs.emplace_back(std::move(msg));
    }
    total += key.size() + value.size();
  }
  if (total > total_annotation_size_limit) {
    std::string msg{field_path};
    msg += ": Too long: must have at most ";
    msg += std::to_string(total_annotation_size_limit);
    msg += " bytes";
    errs.emplace_back(std::move(msg));
  }
  return errs;
}

std::string join_errors(const std::vector<std::string>& errors) {
  std::string out;
  for (auto& e : errors) {
    if (!out.empty())
      out += "; ";
    out += e;
  }
  return out;
}

caf::error validate_dns1123_subdomain(std::string_view value,
                                      std::string_view what) {
  return fold(what, value, dns1123_subdomain_errors(value));
}

caf::error validate_dns1123_label(std::string_view value,
                                  std::string_view what) {
  return fold(what, value, dns1123_label_errors(value));
}

caf::error validate_qualified_name(std::string_view value,
                                   std::string_view what) {
  return fold(what, value, qualified_name_errors(value));
}

caf::error validate_label_value(std::string_view value, std::string_view what) {
  return fold(what, value, label_value_errors(value));
}

caf::error
validate_annotations(const std::map<std::string, std::string>& annotations,
                     std::string_view field_path) {
  auto errs = annotations_errors(annotations, field_path);
  if (errs.empty())
    return {};
  return caf::make_error(caf::sec::invalid_argument, join_errors(errs));
}

} // namespace istio_csr::kube
