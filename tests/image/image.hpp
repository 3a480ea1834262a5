#pragma once

// Helpers of the image tests (tests/image). Include only from CAF test
// translation units.

#include <cstdint>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "caf/test/unit_test.hpp"

#include "tests/support/process.hpp"

namespace istio_csr::test::image {

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::set<std::string> words(const std::string& text) {
  std::istringstream in{text};
  std::set<std::string> result;
  for (std::string w; in >> w;)
    if (w != "\\")
      result.insert(w);
  return result;
}

/// The Dockerfile with continuation lines joined.
inline std::vector<std::string> dockerfile_lines() {
  auto text = read_file(source_path("Dockerfile"));
  CAF_REQUIRE(!text.empty());
  std::vector<std::string> lines;
  std::istringstream in{text};
  std::string joined;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#", 0) == 0)
      continue;
    if (!line.empty() && line.back() == '\\') {
      joined += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    joined += line;
    if (!joined.empty())
      lines.push_back(joined);
    joined.clear();
  }
  return lines;
}

/// The instructions of `keyword` (e.g. "ENTRYPOINT"), without the keyword.
inline std::vector<std::string> instructions(const std::vector<std::string>& lines,
                                      const std::string& keyword) {
  std::vector<std::string> result;
  for (auto& l : lines)
    if (l.rfind(keyword + " ", 0) == 0)
      result.push_back(l.substr(keyword.size() + 1));
  return result;
}

/// The image's tag: the chart's appVersion.
inline std::string app_version() {
  auto chart = read_file(source_path("helm/istio-csr/Chart.yaml"));
  std::smatch m;
  CAF_REQUIRE(std::regex_search(chart, m,
                                std::regex{"\nappVersion: *\"?([^\"\n]+)"}));
  return m[1];
}

/// "port=N" of a log line; 0 if none.
inline std::uint16_t port_field(const std::string& line) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex{" port=\"?([0-9]+)"}))
    return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

} // namespace istio_csr::test::image

