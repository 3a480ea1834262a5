#include "kube/client/resource.hpp"

namespace istio_csr::kube {

std::string resource::api_version() const {
  if (group.empty())
    return std::string{version};
  std::string result{group};
  result += '/';
  result += version;
  return result;
}

std::string resource::group_path() const {
  std::string result;
  if (group.empty()) {
    result = "/api/";
  } else {
    result = "/apis/";
    result += group;
    result += '/';
  }
  result += version;
  return result;
}

std::string resource::collection_path(std::string_view namespace_) const {
  auto result = group_path();
  if (namespaced && !namespace_.empty()) {
    result += "/namespaces/";
    result += url_encode(namespace_);
  }
  result += '/';
  result += plural;
  return result;
}

std::string resource::object_path(std::string_view namespace_,
                                  std::string_view name,
                                  std::string_view subresource) const {
  auto result = collection_path(namespace_);
  result += '/';
  result += url_encode(name);
  if (!subresource.empty()) {
    result += '/';
    result += subresource;
  }
  return result;
}

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string result;
  result.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~') {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += hex[c >> 4];
      result += hex[c & 15];
    }
  }
  return result;
}

} // namespace istio_csr::kube
