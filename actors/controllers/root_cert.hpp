#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace istio_csr::kube {
class label_selector;
} // namespace istio_csr::kube

namespace istio_csr::actors::controllers {

/// The ConfigMap written into every selected namespace (docs/upstream.md §5).
inline constexpr std::string_view root_cert_config_map = "istio-ca-root-cert";

/// Its one data key: the mesh root bundle (PEM).
inline constexpr std::string_view root_cert_key = "root-cert.pem";

/// Its label, always exactly `"true"`.
inline constexpr std::string_view root_cert_label = "istio.io/config";

/// What a configmap actor has to do to a namespace's `istio-ca-root-cert`.
struct root_cert_plan {
  enum class action {
    /// The ConfigMap is as it should be: no write.
    none,
    /// There is none: create `object`.
    create,
    /// It differs: PUT `object` (carries the read resourceVersion).
    update,
  };
  action act = action::none;
  nlohmann::json object;
};

/// Upstream's reconcile of one ConfigMap (docs/upstream.md §5, step 5):
/// `current` is the object read from the API server, nullptr when there is
/// none. Creates it with the label and the one data key; otherwise wipes every
/// data key when any key other than `root-cert.pem` exists, sets
/// `root-cert.pem` to `root_pem`, sets the label to exactly `"true"`, keeps
/// other labels, annotations and `binaryData`, and updates only if something
/// changed.
root_cert_plan plan_root_cert(std::string_view namespace_,
                              const nlohmann::json* current,
                              const std::string& root_pem);

/// Whether the namespace `ns` (nullptr: it does not exist) gets the
/// ConfigMap (docs/upstream.md §5, steps 1-3): it exists, its labels match
/// `selector` and it is not Terminating.
bool namespace_selected(const nlohmann::json* ns,
                        const kube::label_selector& selector);

} // namespace istio_csr::actors::controllers
