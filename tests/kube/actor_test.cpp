#define CAF_SUITE kube.actors
#include "caf/test/unit_test.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "errors/describe.hpp"
#include "helpers.hpp"
#include "kube/api/config_map.hpp"
#include "kube/api/validation.hpp"
#include "kube/client/client_actor.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using namespace istio_csr::kube::testing;

namespace {

struct fixture {
  fixture() : sys(init(cfg)) {
    // nop
  }

  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    istio_csr::errors::add_categories(cfg, {error_category});
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
};

/// Receives the next informer event (or fails after 10 s).
informer_event next_event(caf::scoped_actor& self) {
  informer_event result;
  bool got = false;
  self->receive(
    [&](const informer_event& ev) {
      result = ev;
      got = true;
    },
    caf::after(std::chrono::seconds{10}) >> [] {});
  if (!got)
    CAF_FAIL("no informer event within 10 s");
  return result;
}

std::string summary(const informer_event& ev) {
  if (ev.type == informer_event_type::synced)
    return "synced";
  return to_string(ev.type) + ":" + object_ref{*ev.object}.name();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(kube_actors, fixture)

CAF_TEST(the client actor answers requests with objects or typed errors) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "act-client");
  auto kube = spawn_client_actor(sys, c);
  caf::scoped_actor self{sys};
  std::string created_name;
  self
    ->request(kube, caf::infinite,
              request::create(resources::configmaps, ns,
                              make_config_map(ns, "cm", {}, {{"a", "1"}})))
    .receive(
      [&](nlohmann::json& obj) { created_name = object_ref{obj}.name(); },
      [&](caf::error& err) { CAF_FAIL("create: " << errors::describe(err)); });
  CAF_CHECK_EQUAL(created_name, "cm");
  caf::error error;
  self
    ->request(kube, caf::infinite,
              request::get(resources::configmaps, ns, "missing"))
    .receive([&](nlohmann::json&) { CAF_FAIL("expected an error"); },
             [&](caf::error& err) { error = std::move(err); });
  CAF_CHECK(is(error, errc::not_found));
  CAF_CHECK_EQUAL(errors::message(error), "configmaps \"missing\" not found");
  CAF_CHECK_EQUAL(sys.render(error),
                  "kube.not_found: configmaps \"missing\" not found");
  // Many requests in flight at once, each answered once.
  using handle_type = decltype(self->request(kube, caf::infinite, request{}));
  std::vector<handle_type> handles;
  for (int i = 0; i < 20; ++i)
    handles.push_back(self->request(
      kube, caf::infinite, request::get(resources::configmaps, ns, "cm")));
  int answered = 0;
  for (auto& h : handles)
    h.receive(
      [&](nlohmann::json& obj) {
        if (object_ref{obj}.name() == "cm")
          ++answered;
      },
      [&](caf::error& err) { CAF_FAIL(errors::describe(err)); });
  CAF_CHECK_EQUAL(answered, 20);
  self->send_exit(kube, caf::exit_reason::user_shutdown);
}

CAF_TEST(informer actor subscribers see every change exactly once) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "act-inf");
  call_ok(*c, request::create(resources::configmaps, ns,
                              make_config_map(ns, "a", {{"app", "t"}}, {})));
  caf::scoped_actor early{sys};
  informer_options opts;
  opts.res = resources::configmaps;
  opts.namespace_ = ns;
  opts.label_selector = "app=t";
  auto inf = spawn_informer_actor(sys, c, opts, {early});
  CAF_CHECK_EQUAL(summary(next_event(early)), "added:a");
  CAF_CHECK_EQUAL(summary(next_event(early)), "synced");
  // A late subscriber gets the cache, then live events, nothing twice.
  caf::scoped_actor late{sys};
  early->send(inf, subscribe_atom::value, caf::actor{late});
  CAF_CHECK_EQUAL(summary(next_event(late)), "added:a");
  CAF_CHECK_EQUAL(summary(next_event(late)), "synced");
  call_ok(*c, request::create(resources::configmaps, ns,
                              make_config_map(ns, "b", {{"app", "t"}}, {})));
  call_ok(*c, request::remove(resources::configmaps, ns, "a"));
  for (auto* self : {&early, &late}) {
    CAF_CHECK_EQUAL(summary(next_event(*self)), "added:b");
    CAF_CHECK_EQUAL(summary(next_event(*self)), "deleted:a");
  }
  // The cache answers gets.
  early->request(inf, caf::infinite, caf::get_atom::value, ns, std::string{"b"})
    .receive(
      [&](nlohmann::json& obj) {
        CAF_CHECK_EQUAL(object_ref{obj}.name(), "b");
      },
      [&](caf::error& err) { CAF_FAIL(errors::describe(err)); });
  early->request(inf, caf::infinite, caf::get_atom::value, ns, std::string{"a"})
    .receive([&](nlohmann::json&) { CAF_FAIL("a was deleted"); },
             [&](caf::error& err) { CAF_CHECK(is(err, errc::not_found)); });
  // An unsubscribed actor hears nothing more.
  late->send(inf, unsubscribe_atom::value, caf::actor{late});
  // Make sure the unsubscribe is processed before the next change.
  late->request(inf, caf::infinite, caf::get_atom::value, ns, std::string{"b"})
    .receive([](nlohmann::json&) {}, [](caf::error&) {});
  call_ok(*c, request::create(resources::configmaps, ns,
                              make_config_map(ns, "c", {{"app", "t"}}, {})));
  CAF_CHECK_EQUAL(summary(next_event(early)), "added:c");
  bool late_got = false;
  late->receive([&](const informer_event&) { late_got = true; },
                caf::after(std::chrono::milliseconds{300}) >> [] {});
  CAF_CHECK(!late_got);
  early->send_exit(inf, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
