#pragma once

// What every fuzz target shares: the input as text, cutting it into parts,
// and invariants whose failure is a finding like a crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace istio_csr::fuzz {

/// The fuzz input as bytes of text.
inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The part of `in` before the first `separator` (all of it without one);
/// `in` keeps what follows the separator.
inline std::string_view next_part(std::string_view& in, char separator) {
  auto i = in.find(separator);
  auto part = in.substr(0, i);
  in = i == std::string_view::npos ? std::string_view{} : in.substr(i + 1);
  return part;
}

/// The first byte of `in` (0 when empty), removed from `in`: targets read
/// their settings (chunk sizes, modes) from it.
inline std::uint8_t take_byte(std::string_view& in) {
  if (in.empty())
    return 0;
  auto b = static_cast<std::uint8_t>(in.front());
  in.remove_prefix(1);
  return b;
}

/// Aborts (a finding) when an invariant of the code under test is broken.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

} // namespace istio_csr::fuzz
