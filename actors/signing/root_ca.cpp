#include "actors/signing/root_ca.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/signing/file_watcher.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/root_store.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "logging/logging.hpp"
#include "pki/error.hpp"

namespace istio_csr::actors::signing {

namespace {

struct root_ca_state {
  root_ca_options opts;
  std::shared_ptr<root_store> store;
  std::unique_ptr<file_watcher> watcher;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "root-ca";
};

/// root-ca with its internal messages: the file watcher's reads.
using root_ca_impl_actor
  = root_ca_actor::extend<caf::reacts_to<roots_file_atom, std::string>,
                          caf::reacts_to<roots_file_atom, caf::error>>;

root_ca_impl_actor::behavior_type
root_ca_impl(root_ca_impl_actor::stateful_pointer<root_ca_state> self,
             root_ca_options opts, std::shared_ptr<root_store> store) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.store = std::move(store);
  st.log = logging::get("root-ca-watcher");
  if (!st.opts.file.empty()) {
    auto w = file_watcher::start(
      st.opts.file,
      [addr = self->address()](caf::expected<std::string> content) {
        auto hdl = caf::actor_cast<root_ca_impl_actor>(addr);
        if (!hdl)
          return;
        if (content)
          caf::anon_send(hdl, roots_file_atom::value, std::move(*content));
        else
          caf::anon_send(hdl, roots_file_atom::value, content.error());
      },
      st.opts.settle);
    if (w) {
      st.watcher = std::move(*w);
      logging::debug(*st.log, "watching root CA file",
                     {{"file", st.opts.file}});
    } else {
      logging::error(
        *st.log, "cannot watch the root CA file",
        {{"file", st.opts.file}, {"err", errors::message(w.error())}});
      self->quit(std::move(w.error()));
    }
  }
  introspection::enable(self, [self] {
    auto roots = self->state.store->current();
    return introspection::report{roots ? std::to_string(roots->certs.size())
                                           + " roots"
                                       : std::string{"no roots yet"}};
  });
  return {
    [self](roots_file_atom, std::string& content) {
      auto& st = self->state;
      if (auto current = st.store->current();
          current && current->pem == content) {
        logging::trace(*st.log, "root CA file unchanged",
                       {{"file", st.opts.file}});
        return;
      }
      auto bundle = policy::load_root_bundle(std::move(content));
      if (!bundle) {
        logging::error(
          *st.log,
          "failed to load the root CA file, keeping the "
          "current roots",
          {{"file", st.opts.file}, {"err", errors::message(bundle.error())}});
        return;
      }
      auto count = bundle->certs.size();
      if (st.store->set(std::move(*bundle)))
        logging::info(
          *st.log, "root CA bundle changed",
          {{"file", st.opts.file}, {"certificates", std::to_string(count)}});
    },
    [self](roots_file_atom, caf::error& err) {
      auto& st = self->state;
      logging::error(*st.log,
                     "failed to read the root CA file, keeping the current "
                     "roots",
                     {{"file", st.opts.file}, {"err", errors::message(err)}});
    },
    [self](roots_subscribe_atom, const caf::actor& subscriber) {
      self->state.store->subscribe(subscriber);
    },
    [self](roots_get_atom) -> roots_ptr {
      return self->state.store->current();
    },
  };
}

} // namespace

root_ca_actor spawn_root_ca(caf::actor_system& sys, root_ca_options opts,
                            std::shared_ptr<root_store> store) {
  return sys.spawn(root_ca_impl, std::move(opts), std::move(store));
}

} // namespace istio_csr::actors::signing
