#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"
#include "caf/fwd.hpp"

#include "actors/supervisor/child_spec.hpp"
#include "kube/api/condition.hpp"

namespace istio_csr::config {
struct options;
} // namespace istio_csr::config

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::signing {
class active_issuer;
} // namespace istio_csr::actors::signing

namespace istio_csr::actors::controllers {

/// The supervisor child name of the runtime issuer watcher.
inline constexpr const char* runtime_issuer_name = "runtime-issuer";

/// The data keys of the runtime configuration ConfigMap
/// (docs/upstream.md §3.5).
inline constexpr const char* issuer_name_key = "issuer-name";
inline constexpr const char* issuer_kind_key = "issuer-kind";
inline constexpr const char* issuer_group_key = "issuer-group";

/// What a runtime configuration ConfigMap says.
struct runtime_issuer_config {
  /// Set when `issuer-name`, `issuer-kind` and `issuer-group` are all
  /// present and non-empty.
  std::optional<kube::issuer_ref> issuer;
  /// Otherwise one entry per missing or empty key.
  std::vector<std::string> errors;
};

/// Reads the issuerRef from a ConfigMap object.
runtime_issuer_config parse_runtime_issuer(const nlohmann::json& config_map);

/// Where the runtime configuration lives and what to fall back to.
struct runtime_issuer_options {
  /// `--runtime-issuance-config-map-name` / `-namespace`.
  std::string name;
  std::string namespace_;
  /// The issuer from the command line, nullopt without one: what the
  /// active issuer reverts to when the ConfigMap goes away.
  std::optional<kube::issuer_ref> static_issuer;
  /// Passed to the informer (tests shorten it).
  std::chrono::seconds min_watch_timeout{300};
};

/// Options from the command line.
runtime_issuer_options runtime_issuer_options_from(const config::options& opts);

/// What the runtime issuer watcher has seen, for tests and diagnostics.
struct runtime_issuer_status {
  /// The first list has completed.
  bool synced = false;
  /// The ConfigMap exists (as far as the informer knows).
  bool present = false;
  /// The issuer the ConfigMap names, while it is present and complete (an
  /// incomplete update keeps the last complete one).
  std::optional<kube::issuer_ref> configured;
  /// ConfigMap versions applied, refused as incomplete, and reverts to the
  /// startup issuer (or to none).
  uint64_t applied = 0;
  uint64_t rejected = 0;
  uint64_t reverted = 0;
  /// The joined errors of the last refused version.
  std::string last_error;
  /// Watches the informer opened so far (it resumes after a dropped watch).
  uint64_t watches = 0;
};

/// `(runtime_issuer_status_atom) -> runtime_issuer_status`.
using runtime_issuer_status_atom = caf::atom_constant<caf::atom("ri_status")>;

/// Internal: an informer event.
using runtime_issuer_event_atom = caf::atom_constant<caf::atom("ri_event")>;

/// Spawns the runtime issuer watcher (docs/upstream.md §3.5): an informer on
/// the ConfigMap `opts.namespace_/opts.name` (field selector `metadata.name`),
/// which resumes after dropped watches and re-lists after a 410. A complete
/// ConfigMap (added or updated) becomes the active issuer at once; an
/// incomplete one is logged with the joined errors and keeps the previous
/// issuer; its deletion reverts to `opts.static_issuer` (or to none, when
/// signing is refused until it returns). When the first list of an
/// incarnation finds no ConfigMap, the active issuer is the startup one (it
/// may have been deleted while a previous incarnation was down).
///
/// Requests in flight keep the issuer they started with: signers read the
/// active issuer once per CertificateRequest.
caf::actor spawn_runtime_issuer(caf::actor_system& sys,
                                runtime_issuer_options opts,
                                std::shared_ptr<kube::client> client,
                                std::shared_ptr<signing::active_issuer> issuer);

/// The `runtime-issuer` child spec (permanent; runs on every replica).
child_spec runtime_issuer_child(runtime_issuer_options opts,
                                std::shared_ptr<kube::client> client,
                                std::shared_ptr<signing::active_issuer> issuer);

} // namespace istio_csr::actors::controllers

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  istio_csr::actors::controllers::runtime_issuer_status)
