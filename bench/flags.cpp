#include "bench/flags.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace istio_csr::bench {

bool parse_flags(int argc, char** argv, const char* program,
                 const std::function<bool(const std::string& flag,
                                          const std::string& value)>& set) {
  if (argc % 2 == 0) {
    std::cerr << program << ": every flag takes a value\n";
    return false;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!set(argv[i], argv[i + 1])) {
      std::cerr << program << ": unknown flag " << argv[i] << "\n";
      return false;
    }
  }
  return true;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> result;
  std::stringstream in{text};
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      result.push_back(item);
  return result;
}

std::vector<int> int_list(const std::string& text) {
  std::vector<int> result;
  for (auto& item : split_list(text))
    result.push_back(std::atoi(item.c_str()));
  return result;
}

} // namespace istio_csr::bench
