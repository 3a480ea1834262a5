#define CAF_SUITE kube.actors
#include "caf/test/unit_test.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "errors/describe.hpp"
#include "kube/api/config_map.hpp"
#include "kube/api/validation.hpp"
#include "kube/client/client_actor.hpp"
#include "tests/kube/client/helpers.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using namespace istio_csr::kube::testing;

CAF_TEST_FIXTURE_SCOPE(kube_actors, actor_system_fixture)

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
      [&](response& obj) { created_name = object_ref{obj.body()}.name(); },
      [&](caf::error& err) { CAF_FAIL("create: " << errors::describe(err)); });
  CAF_CHECK_EQUAL(created_name, "cm");
  caf::error error;
  self
    ->request(kube, caf::infinite,
              request::get(resources::configmaps, ns, "missing"))
    .receive([&](response&) { CAF_FAIL("expected an error"); },
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
      [&](response& obj) {
        if (object_ref{obj.body()}.name() == "cm")
          ++answered;
      },
      [&](caf::error& err) { CAF_FAIL(errors::describe(err)); });
  CAF_CHECK_EQUAL(answered, 20);
  self->send_exit(kube, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
