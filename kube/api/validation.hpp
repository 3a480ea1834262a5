#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "caf/error.hpp"

namespace istio_csr::kube {

/// Name and metadata rules of k8s.io/apimachinery/pkg/util/validation. Each
/// `*_errors` function returns the list of problems (empty when valid) with
/// the same wording as the Kubernetes API server; each `validate_*` function
/// folds them into one `caf::error` (`sec::invalid_argument`) or returns an
/// empty error when the value is valid.

/// Longest DNS-1123 subdomain (e.g. object names, annotation key prefixes).
inline constexpr size_t dns1123_subdomain_max_length = 253;

/// Longest DNS-1123 label and longest name part of a qualified name.
inline constexpr size_t dns1123_label_max_length = 63;

/// Longest label value.
inline constexpr size_t label_value_max_length = 63;

/// Upper bound of the summed sizes of all annotation keys and values.
inline constexpr size_t total_annotation_size_limit = 256 * 1024;

/// RFC 1123 subdomain: lower-case alphanumerics, '-' and '.', at most 253
/// characters, starting and ending with an alphanumeric.
std::vector<std::string> dns1123_subdomain_errors(std::string_view value);

/// RFC 1123 label: lower-case alphanumerics and '-', at most 63 characters,
/// starting and ending with an alphanumeric.
std::vector<std::string> dns1123_label_errors(std::string_view value);

/// Qualified name (label and annotation keys): an optional DNS-1123
/// subdomain prefix and '/', then a name of at most 63 characters of
/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
std::vector<std::string> qualified_name_errors(std::string_view value);

/// Label value: empty, or at most 63 characters of
/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
std::vector<std::string> label_value_errors(std::string_view value);

/// Annotations as the API server checks them: every key (lower-cased) is a
/// qualified name and the summed size of all keys and values is at most
/// 256 KiB. Messages are prefixed with `field_path`, e.g.
/// `metadata.annotations: Invalid value: "a b": name part must ...`.
std::vector<std::string>
annotations_errors(const std::map<std::string, std::string>& annotations,
                   std::string_view field_path = "metadata.annotations");

/// Joins `errors` with "; " (empty input gives an empty string).
std::string join_errors(const std::vector<std::string>& errors);

/// `sec::invalid_argument` with the message `what "value" is invalid: ...`,
/// or an empty error if `value` is a valid DNS-1123 subdomain.
caf::error validate_dns1123_subdomain(std::string_view value,
                                      std::string_view what = "name");

/// Like validate_dns1123_subdomain for DNS-1123 labels.
caf::error validate_dns1123_label(std::string_view value,
                                  std::string_view what = "name");

/// Like validate_dns1123_subdomain for qualified names.
caf::error validate_qualified_name(std::string_view value,
                                   std::string_view what = "key");

/// Like validate_dns1123_subdomain for label values.
caf::error validate_label_value(std::string_view value,
                                std::string_view what = "label value");

/// `sec::invalid_argument` with all annotation problems joined, or an empty
/// error.
caf::error
validate_annotations(const std::map<std::string, std::string>& annotations,
                     std::string_view field_path = "metadata.annotations");

} // namespace istio_csr::kube
