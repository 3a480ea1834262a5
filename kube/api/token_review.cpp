#include "kube/api/token_review.hpp"

namespace istio_csr::kube {

namespace {

std::vector<std::string> string_list(const nlohmann::json* member) {
  std::vector<std::string> result;
  if (member != nullptr && member->is_array())
    for (auto& x : *member)
      if (x.is_string())
        result.push_back(x.get<std::string>());
  return result;
}

} // namespace

nlohmann::json make_token_review(std::string_view token,
                                 const std::vector<std::string>& audiences) {
  auto spec = nlohmann::json{{"token", token}};
  if (!audiences.empty())
    spec["audiences"] = audiences;
  return nlohmann::json{{"apiVersion", "authentication.k8s.io/v1"},
                        {"kind", "TokenReview"},
                        {"spec", std::move(spec)}};
}

bool token_review_view::authenticated() const {
  auto member = member_at(json(), {"status", "authenticated"});
  return member != nullptr && member->is_boolean() && member->get<bool>();
}

std::vector<std::string> token_review_view::groups() const {
  return string_list(member_at(json(), {"status", "user", "groups"}));
}

std::map<std::string, std::vector<std::string>>
token_review_view::extra() const {
  std::map<std::string, std::vector<std::string>> result;
  auto member = member_at(json(), {"status", "user", "extra"});
  if (member != nullptr && member->is_object())
    for (auto& [key, value] : member->items())
      result.emplace(key, string_list(&value));
  return result;
}

std::string token_review_view::extra_value(std::string_view key) const {
  auto member = member_at(json(), {"status", "user", "extra"});
  if (member == nullptr || !member->is_object())
    return {};
  auto i = member->find(key);
  if (i == member->end() || !i->is_array() || i->empty()
      || !i->front().is_string())
    return {};
  return i->front().get<std::string>();
}

std::vector<std::string> token_review_view::audiences() const {
  return string_list(member_at(json(), {"status", "audiences"}));
}

} // namespace istio_csr::kube
