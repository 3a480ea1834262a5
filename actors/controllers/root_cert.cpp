#include "actors/controllers/root_cert.hpp"

#include "kube/api/config_map.hpp"
#include "kube/api/label_selector.hpp"
#include "kube/api/namespace.hpp"

namespace istio_csr::actors::controllers {

root_cert_plan plan_root_cert(std::string_view namespace_,
                              const nlohmann::json* current,
                              const std::string& root_pem) {
  root_cert_plan result;
  std::string key{root_cert_key};
  std::string label{root_cert_label};
  if (current == nullptr || !current->is_object()) {
    result.act = root_cert_plan::action::create;
    result.object = kube::make_config_map(namespace_, root_cert_config_map,
                                          {{label, "true"}}, {{key, root_pem}});
    return result;
  }
  auto obj = *current;
  bool changed = false;
  // Data: exactly the one key. Any other key wipes them all (upstream), so
  // the result is the same as replacing `data` whenever it differs.
  auto want_data = nlohmann::json::object({{key, root_pem}});
  auto data = obj.find("data");
  if (data == obj.end() || *data != want_data) {
    obj["data"] = std::move(want_data);
    changed = true;
  }
  // The label, exactly "true"; other labels stay.
  auto& meta = obj["metadata"];
  if (!meta.is_object())
    meta = nlohmann::json::object();
  auto& labels = meta["labels"];
  if (!labels.is_object())
    labels = nlohmann::json::object();
  auto l = labels.find(label);
  if (l == labels.end() || !l->is_string()
      || l->get_ref<const std::string&>() != "true") {
    labels[label] = "true";
    changed = true;
  }
  if (changed) {
    result.act = root_cert_plan::action::update;
    result.object = std::move(obj);
  }
  return result;
}

bool namespace_selected(const nlohmann::json* ns,
                        const kube::label_selector& selector) {
  if (ns == nullptr || !ns->is_object())
    return false;
  kube::namespace_view view{*ns};
  return selector.matches(view.labels()) && !view.terminating();
}

} // namespace istio_csr::actors::controllers
