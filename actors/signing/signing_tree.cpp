#include "actors/signing/signing_tree.hpp"

#include <thread>

#include "caf/actor_system.hpp"

#include "actors/signing/dispatcher.hpp"
#include "config/options.hpp"
#include "kube/api/condition.hpp"
#include "kube/client/client_actor.hpp"

namespace istio_csr::actors::signing {

std::string names::signer(std::size_t i) {
  return "csr-signer-" + std::to_string(i);
}

std::size_t default_signer_count() {
  return std::max<std::size_t>(2, std::thread::hardware_concurrency());
}

signing_setup settings_from(const config::options& opts) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  signing_setup s;
  cr_settings cr;
  cr.namespace_ = opts.issuer.certificate_namespace;
  cr.annotations = opts.issuer.additional_annotations;
  cr.preserve = opts.issuer.preserve_certificate_requests;
  auto timeout = opts.issuer.certificate_request_timeout;
  // Signers.
  s.signer.cr = cr;
  s.signer.cluster_id = opts.serving.cluster_id;
  s.signer.trust_domain = opts.tls.trust_domain;
  s.signer.client_cert_authenticator
    = opts.serving.enable_client_cert_authenticator;
  s.signer.token_audiences = opts.token_audiences;
  s.signer.trusted_node_accounts = opts.serving.ca_trusted_node_accounts;
  s.signer.max_duration
    = duration_cast<seconds>(opts.serving.max_client_certificate_duration);
  s.signer.request_timeout = timeout;
  s.pending_crs = slot_pool::make(
    static_cast<std::size_t>(opts.issuer.max_pending_certificate_requests));
  // One cache for every signer: a renewal that lands on another signer (or
  // on a restarted one) still hits.
  if (opts.serving.token_review_cache_ttl > config::duration::zero())
    s.token_reviews = std::make_shared<token_review_cache>(
      std::chrono::duration_cast<token_review_cache::duration>(
        opts.serving.token_review_cache_ttl));
  // The watcher.
  s.watcher.cr = cr;
  s.watcher.orphan_age = orphan_age_for(timeout);
  s.watcher.sweep_interval = sweep_interval_for(timeout);
  // The serving certificate.
  s.obtainer.cr = cr;
  s.obtainer.dns_names = opts.tls.serving_certificate_dns_names;
  s.obtainer.key_type
    = opts.tls.serving_key_algorithm == config::key_algorithm::ecdsa
        ? pki::key_algorithm::ec
        : pki::key_algorithm::rsa;
  s.obtainer.key_size = opts.tls.serving_certificate_key_size;
  s.obtainer.duration
    = duration_cast<seconds>(opts.tls.serving_certificate_duration);
  s.obtainer.roots_from_file = !opts.tls.root_ca_file.empty();
  s.obtainer.renewal_timeout = timeout;
  // Roots.
  s.root_ca.file = opts.tls.root_ca_file;
  // Ambient node authorization.
  auto trusted
    = ambient::trusted_accounts::parse(opts.serving.ca_trusted_node_accounts);
  if (!trusted.empty()) {
    ambient::pod_index_options pi;
    pi.trusted = std::move(trusted);
    pi.trust_domain = opts.tls.trust_domain;
    s.pod_index = std::move(pi);
    s.pod_index_status = std::make_shared<ambient::pod_index_status>();
  }
  return s;
}

std::vector<child_spec> signing_children(const signing_setup& setup) {
  std::vector<child_spec> result;
  auto add = [&](std::string name, spawn_function fn) {
    child_spec spec;
    spec.name = std::move(name);
    spec.spawn = std::move(fn);
    result.push_back(std::move(spec));
  };
  add(names::kube_client, [client = setup.client](child_context& ctx) {
    return caf::actor_cast<caf::actor>(
      kube::spawn_client_actor(ctx.system(), client));
  });
  add(names::root_ca,
      [opts = setup.root_ca, roots = setup.roots](child_context& ctx) {
        return caf::actor_cast<caf::actor>(
          spawn_root_ca(ctx.system(), opts, roots));
      });
  add(names::cr_watcher,
      [opts = setup.watcher, client = setup.client](child_context& ctx) {
        return caf::actor_cast<caf::actor>(
          spawn_cr_watcher(ctx.system(), opts, client));
      });
  if (setup.pod_index)
    add(names::pod_index,
        [opts = *setup.pod_index, client = setup.client,
         status = setup.pod_index_status](child_context& ctx) {
          return caf::actor_cast<caf::actor>(
            ambient::spawn_pod_index(ctx.system(), opts, client, status));
        });
  auto signer_opts = std::make_shared<const signer_options>(setup.signer);
  bool with_pod_index = setup.pod_index.has_value();
  for (std::size_t i = 0; i < setup.signers; ++i)
    add(names::signer(i),
        [signer_opts, issuer = setup.issuer, roots = setup.roots,
         with_pod_index, pending = setup.pending_crs,
         reviews = setup.token_reviews](child_context& ctx) {
          signer_deps deps{
            ctx.sibling_as<kube::client_actor>(names::kube_client),
            ctx.sibling_as<cr_watcher_actor>(names::cr_watcher),
            issuer,
            roots,
            with_pod_index
              ? ctx.sibling_as<ambient::pod_index_actor>(names::pod_index)
              : ambient::pod_index_actor{},
            pending,
            reviews};
          return caf::actor_cast<caf::actor>(
            spawn_csr_signer(ctx.system(), signer_opts, std::move(deps)));
        });
  add(names::dispatcher, [n = setup.signers](child_context& ctx) {
    std::vector<signer_actor> signers;
    for (std::size_t i = 0; i < n; ++i)
      signers.push_back(ctx.sibling_as<signer_actor>(names::signer(i)));
    return caf::actor_cast<caf::actor>(
      spawn_dispatcher(ctx.system(), std::move(signers)));
  });
  if (setup.with_cert_obtainer)
    add(names::cert_obtainer, [opts = setup.obtainer, issuer = setup.issuer,
                               roots = setup.roots,
                               sink = setup.sink](child_context& ctx) {
      obtainer_deps deps{ctx.sibling_as<kube::client_actor>(names::kube_client),
                         ctx.sibling_as<cr_watcher_actor>(names::cr_watcher),
                         issuer, roots, sink};
      return spawn_cert_obtainer(ctx.system(), opts, std::move(deps));
    });
  return result;
}

} // namespace istio_csr::actors::signing
