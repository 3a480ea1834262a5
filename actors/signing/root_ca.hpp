#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/signing/messages.hpp"

namespace istio_csr::actors::signing {

class root_store;

/// How root-ca runs.
struct root_ca_options {
  /// `--root-ca-file`; empty: the roots come from the serving
  /// CertificateRequest (the cert-obtainer sets them).
  std::string file;
  /// Quiet time after a burst of file events before reading.
  std::chrono::milliseconds settle{50};
};

/// root-ca (docs/upstream.md, "Root CA file"): watches `opts.file` (see
/// `file_watcher`) and puts each changed, decodable bundle into `store` (a
/// byte comparison decides "changed"; an unreadable or undecodable file is
/// logged and the old roots stay). The first load is the caller's job (a
/// failure there is fatal). A file it cannot watch ends it with an error
/// (its supervisor restarts it).
/// - `(roots_subscribe_atom, caf::actor)`: see `root_store::subscribe`;
/// - `(roots_get_atom) -> roots_ptr`.
using root_ca_actor
  = caf::typed_actor<caf::reacts_to<roots_subscribe_atom, caf::actor>,
                     caf::replies_to<roots_get_atom>::with<roots_ptr>>;

root_ca_actor spawn_root_ca(caf::actor_system& sys, root_ca_options opts,
                            std::shared_ptr<root_store> store);

} // namespace istio_csr::actors::signing
