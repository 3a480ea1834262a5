#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace istio_csr::actors::controllers {

/// What the namespace watcher's two informers cache, one entry per
/// namespace of the cluster, is a record: one JSON string
/// `<key>` U+001F `<object as compact JSON>` (no Kubernetes name contains
/// U+001F) instead of an object tree, holding only what is read, so that
/// 10,000 namespaces stay cheap (docs/benchmarks.md, "Namespaces at
/// scale"). Readers parse the object when they need it.

/// A record of `object` under `key`.
nlohmann::json make_record(std::string_view key, const nlohmann::json& object);

/// The key of a record; empty if `record` is not one.
std::string_view record_key(const nlohmann::json& record);

/// The object of a record; nullopt if `record` is not one.
std::optional<nlohmann::json> read_record(const nlohmann::json& record);

/// A Namespace reduced to what `namespace_selected` reads:
/// `metadata.name`, `metadata.labels`, `metadata.deletionTimestamp` and
/// `status.phase` (those present).
nlohmann::json compact_namespace(nlohmann::json ns);

/// The namespace informer's transform: the record of `compact_namespace`,
/// keyed by the name.
nlohmann::json make_namespace_record(nlohmann::json ns);

/// The `istio-ca-root-cert` informer's transform: the record of the
/// ConfigMap without `metadata.managedFields`, keyed by its namespace.
/// Every other field stays, since an update is built from the cached
/// object.
nlohmann::json make_config_map_record(nlohmann::json config_map);

} // namespace istio_csr::actors::controllers
