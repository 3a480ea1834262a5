#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kube/api/go_quote.hpp"

namespace istio_csr::devcluster {

/// Wall-clock time as the API server writes `metav1.Time`:
/// `2006-01-02T15:04:05Z` (UTC, whole seconds).
std::string format_time(std::chrono::system_clock::time_point t);

/// `metav1.MicroTime`: `2006-01-02T15:04:05.000000Z`.
std::string format_micro_time(std::chrono::system_clock::time_point t);

/// Parses an RFC 3339 timestamp with optional fraction and offset.
std::optional<std::chrono::system_clock::time_point>
parse_time(std::string_view text);

/// Ages as kubectl prints them (`5s`, `3m2s`, `4h`, `2d3h`, ...).
std::string human_duration(std::chrono::seconds d);

/// A random version 4 UUID in its canonical lower-case form.
std::string new_uuid();

/// `n` characters from the alphabet the API server uses for `generateName`
/// (lower-case consonants and digits without look-alikes).
std::string random_name_suffix(size_t n = 5);

/// A random string of `n` URL-safe characters (tokens).
std::string random_token(size_t n);

/// Percent-decodes `text` (`+` stays `+`, as in Go's path unescaping);
/// `query` additionally turns `+` into a space.
std::string url_decode(std::string_view text, bool query = false);

/// Splits a query string into decoded key/value pairs (the last value of a
/// repeated key wins).
std::map<std::string, std::string> parse_query(std::string_view query);

/// Parses a non-negative decimal integer; nullopt on anything else.
std::optional<uint64_t> parse_uint(std::string_view text);

/// Go's `%q` quoting for the ASCII strings of Status messages.
using kube::go_quote;

} // namespace istio_csr::devcluster
