#pragma once

#include <nlohmann/json.hpp>

#include "introspection/tree.hpp"

namespace istio_csr::debug {

/// `node` and everything below it as `GET /debug/actors` shows it
/// (docs/debugging.md), members in this order: `name`, `path`,
/// `incarnation`, `restarts`, `recent_failures`, `max_restarts`,
/// `running`, `supervisor`, `mailbox` (null when unknown), `state`,
/// `children`.
nlohmann::ordered_json to_json(const introspection::tree_node& node);

} // namespace istio_csr::debug
