// The csr-signer's races on CAF's deterministic scheduler and virtual clock,
// against a fake kube client and a fake cr-watcher that answer only when the
// test says so: a create answered after its request ended, the deadline and
// the final event at the same instant (both orders), a cancel during the
// TokenReview, the bound on waiting CertificateRequests, and the TokenReview
// cache (reuse, expiry at the TTL and at the token's `exp`, failures not
// cached, LRU bound, TTL 0) on virtual time, and the Kubernetes calls that a
// restarted kube client lost or that found their object already there.

#define CAF_SUITE actors.signer_races

#include "caf/test/dsl.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/signing/active_issuer.hpp"
#include "actors/signing/csr_signer.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/policy/chain.hpp"
#include "actors/signing/root_store.hpp"
#include "actors/signing/signing_tree.hpp"
#include "actors/signing/slot_pool.hpp"
#include "actors/signing/token_review_cache.hpp"
#include "actors/supervisor/errors.hpp"
#include "actors/system/system_config.hpp"
#include "config/options.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "pki/csr.hpp"
#include "signing_api/sign_errc.hpp"
#include "signing_api/sign_reply.hpp"
#include "signing_api/sign_request.hpp"
#include "tests/actors/signing/fake_cr_watcher.hpp"
#include "tests/actors/signing/result_code.hpp"
#include "tests/pki/test_pki.hpp"
#include "tests/support/actors.hpp"
#include "tests/support/fake_kube_client.hpp"

using namespace std::chrono_literals;
using namespace istio_csr;
using namespace istio_csr::test;

namespace {

namespace sg = istio_csr::actors::signing;
using signing_api::sign_errc;
using json = nlohmann::json;
using time_point = caf::actor_clock::time_point;

const std::string workload_id = "spiffe://cluster.local/ns/ns-a/sa/sa-a";

/// What one signing request got.
struct outcome {
  /// Every result its reply delivered (a reply delivers at most one: the
  /// first `finish` wins).
  std::vector<signing_api::sign_result> results;
  /// Answers of the signer to the `(sign_atom, request_ref)` request.
  int signer_answers = 0;
  caf::error signer_error;
  std::shared_ptr<signing_api::callback_reply> reply;

  /// "ok", the `sign_errc` name of the one result, "<none>" or "<several>".
  std::string code() const {
    return istio_csr::test::signing::result_code(results);
  }
};

struct fixture : test_coordinator_fixture<actors::system_config> {
  key_and_cert ca = make_root("istio-csr signer races CA");
  pki::private_key workload_key = ec_key();
  std::string csr_pem;
  fake_kube_client kube{sys};
  fake_cr_watcher watcher{sys};
  std::shared_ptr<sg::slot_pool> pool;
  sg::signer_actor signer;
  std::vector<caf::actor> helpers;
  int crs = 0;

  fixture() {
    pki::csr_template tmpl;
    tmpl.sans.uris = {workload_id};
    csr_pem = unwrap(pki::make_csr(workload_key, tmpl)).to_pem();
  }

  ~fixture() override {
    send_exit_to_all(caf::exit_reason::user_shutdown, helpers, signer,
                     kube.actor(), watcher.actor());
    sched.run();
  }

  /// Starts the signer: `timeout` is `--certificate-request-timeout`,
  /// `limit` the bound on waiting CertificateRequests.
  void start(std::chrono::nanoseconds timeout = 10s, std::size_t limit = 8,
             std::shared_ptr<sg::token_review_cache> reviews = nullptr) {
    auto opts = std::make_shared<sg::signer_options>();
    opts->cr.namespace_ = "istio-system";
    opts->request_timeout = timeout;
    pool = sg::slot_pool::make(limit);
    auto roots = sg::policy::load_root_bundle(ca.cert.to_pem());
    CAF_REQUIRE(roots);
    sg::signer_deps deps{kube.handle(),
                         watcher.handle(),
                         std::make_shared<sg::active_issuer>(kube::issuer_ref{
                           "istio-ca", "Issuer", "cert-manager.io"}),
                         std::make_shared<sg::root_store>(std::move(*roots)),
                         {},
                         pool,
                         std::move(reviews)};
    signer = sg::spawn_csr_signer(sys, std::move(opts), std::move(deps));
    sched.run();
  }

  time_point now() {
    return sched.clock().now();
  }

  /// Sends one request to the signer, as the dispatcher does, from a fresh
  /// actor that counts the signer's answers.
  std::shared_ptr<outcome> sign(time_point deadline = time_point::max(),
                                std::string token = "a-token") {
    auto out = std::make_shared<outcome>();
    signing_api::sign_request req;
    req.csr_pem = csr_pem;
    req.validity_seconds = 3600;
    req.caller.has_authorization = true;
    req.caller.bearer_token = std::move(token);
    req.caller.peer = "127.0.0.1:1";
    req.deadline = deadline;
    std::weak_ptr<outcome> weak = out;
    out->reply
      = signing_api::callback_reply::make([weak](signing_api::sign_result r) {
          if (auto o = weak.lock())
            o->results.push_back(std::move(r));
        });
    req.reply = out->reply;
    auto ref = sg::make_request_ref(std::move(req));
    auto dest = signer;
    helpers.push_back(sys.spawn(
      [dest](caf::event_based_actor* s, sg::request_ref ref,
             std::shared_ptr<outcome> out) {
        s->request(dest, caf::infinite, sg::sign_atom::value, std::move(ref))
          .then([out] { ++out->signer_answers; },
                [out](caf::error& err) {
                  ++out->signer_answers;
                  out->signer_error = std::move(err);
                });
      },
      std::move(ref), out));
    sched.run();
    return out;
  }

  /// The caller's TokenReview says: the service account ns-a/sa-a.
  void answer_review() {
    auto i = kube.pending_one(kube::verb::create, "tokenreviews");
    kube.answer(
      i, json{{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenReview"},
              {"status",
               {{"authenticated", true},
                {"user",
                 {{"username", "system:serviceaccount:ns-a:sa-a"},
                  {"groups", json::array({"system:serviceaccounts",
                                          "system:serviceaccounts:ns-a",
                                          "system:authenticated"})}}}}}});
    sched.run();
  }

  /// The index of the one unanswered create of a CertificateRequest.
  std::size_t pending_create() {
    return kube.pending_one(kube::verb::create, "certificaterequests");
  }

  /// Answers the create `i` as the API server does (`generateName`); returns
  /// the name. Does not run the scheduler.
  std::string answer_create(std::size_t i) {
    auto name = "istio-csr-" + std::to_string(++crs);
    auto body = kube.at(i).body;
    body["metadata"]["name"] = name;
    body["metadata"]["namespace"] = "istio-system";
    kube.answer(i, std::move(body));
    return name;
  }

  /// What the create sent and the GET that reads it back after a 409.
  struct read_back_step {
    json sent;
    std::string name;
    std::size_t get;
  };

  /// A request (signed, not reviewed yet) up to the read-back of its
  /// object: the review succeeds, the create answers 409 AlreadyExists.
  read_back_step until_read_back() {
    answer_review();
    auto create = pending_create();
    read_back_step step;
    step.sent = kube.at(create).body;
    step.name = step.sent["metadata"]["name"].get<std::string>();
    kube.fail(create, kube::make_error(kube::errc::already_exists));
    sched.run();
    step.get = kube.pending_one(kube::verb::get, "certificaterequests");
    return step;
  }

  /// A request up to its wait on the watcher; returns the object's name.
  std::string until_wait(const outcome& out) {
    answer_review();
    auto name = answer_create(pending_create());
    sched.run();
    CAF_REQUIRE_EQUAL(out.code(), "<none>");
    CAF_REQUIRE_EQUAL(watcher.waits().back().name, name);
    return name;
  }

  /// The CertificateRequest `name` as the CA issuer signs it.
  sg::finished_request issued(const std::string& name) {
    pki::cert_template tmpl;
    tmpl.key_usage
      = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
    tmpl.ext_key_usages = {std::string{pki::oid::client_auth},
                           std::string{pki::oid::server_auth}};
    tmpl.not_before = std::chrono::system_clock::now() - 1min;
    tmpl.not_after = tmpl.not_before + 1h;
    auto csr = unwrap(pki::csr::from_pem(csr_pem));
    auto leaf = unwrap(pki::issue_from_csr(csr, tmpl, ca.cert, ca.key));
    sg::finished_request cr;
    cr.name = name;
    cr.outcome = sg::cr_outcome::issued;
    cr.certificate = leaf.to_pem();
    cr.ca = ca.cert.to_pem();
    return cr;
  }

  /// Runs only the fake cr-watcher, once: its answer lands in the signer's
  /// mailbox, which does not run.
  void run_watcher_only() {
    CAF_REQUIRE(sched.prioritize(watcher.actor()));
    sched.run_once();
  }

  /// The deletes of `name` the fake kube client received.
  std::size_t deletes_of(const std::string& name) {
    std::size_t result = 0;
    for (auto i : kube.find(kube::verb::remove, "certificaterequests"))
      if (kube.at(i).name == name)
        ++result;
    return result;
  }

  std::size_t count(const std::vector<std::string>& xs, const std::string& x) {
    return static_cast<std::size_t>(std::count(xs.begin(), xs.end(), x));
  }

  sg::signer_stats stats() {
    auto result = std::make_shared<std::optional<sg::signer_stats>>();
    auto dest = signer;
    helpers.push_back(sys.spawn(
      [dest](caf::event_based_actor* s,
             std::shared_ptr<std::optional<sg::signer_stats>> result) {
        s->request(dest, caf::infinite, sg::stats_atom::value)
          .then([result](sg::signer_stats& x) { *result = std::move(x); });
      },
      result));
    sched.run();
    CAF_REQUIRE(result->has_value());
    return **result;
  }
};

caf::error kube_client_restarted() {
  return actors::make_error(actors::supervisor_errc::child_restarted);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(signer_races_tests, fixture)

CAF_TEST(a review lost with a restarted kube client is asked again) {
  start(1h);
  auto out = sign();
  auto reviews
    = [&] { return kube.find(kube::verb::create, "tokenreviews").size(); };
  kube.fail(kube.pending_one(kube::verb::create, "tokenreviews"),
            kube_client_restarted());
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "<none>");
  CAF_CHECK_EQUAL(reviews(), 2u);
  until_wait(*out);
  CAF_CHECK_EQUAL(out->code(), "<none>");
}

CAF_TEST(a review lost six times answers unavailable) {
  start(1h);
  auto out = sign();
  for (int i = 0; i < 6; ++i) {
    CAF_REQUIRE_EQUAL(out->code(), "<none>");
    kube.fail(kube.pending_one(kube::verb::create, "tokenreviews"),
              kube_client_restarted());
    sched.run();
  }
  // Never reviewed, so never refused: istio-agent retries UNAVAILABLE.
  CAF_CHECK_EQUAL(out->code(), "signer_unavailable");
  CAF_CHECK_EQUAL(kube.find(kube::verb::create, "tokenreviews").size(), 6u);
}

CAF_TEST(a create names its object and may be repeated) {
  start(1h);
  auto out = sign();
  answer_review();
  auto& req = kube.at(pending_create());
  CAF_CHECK(req.repeatable_create);
  CAF_CHECK(req.idempotent());
  auto name = req.body["metadata"].value("name", "");
  CAF_CHECK_EQUAL(name.size(), std::string{"istio-csr-xxxxx"}.size());
  CAF_CHECK_EQUAL(name.rfind("istio-csr-", 0), 0u);
  // Upstream's shape stays: generateName is sent too (and stored).
  CAF_CHECK_EQUAL(req.body["metadata"].value("generateName", ""), "istio-csr-");
}

CAF_TEST(a create lost with a restarted kube client is sent again as is) {
  start(1h);
  auto out = sign();
  answer_review();
  auto first = pending_create();
  auto sent = kube.at(first).body;
  kube.fail(first, kube_client_restarted());
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "<none>");
  auto second = pending_create();
  CAF_CHECK_NOT_EQUAL(first, second);
  CAF_CHECK_EQUAL(kube.at(second).body, sent);
  kube.answer(second, kube.at(second).body);
  sched.run();
  CAF_REQUIRE_EQUAL(watcher.waits().size(), 1u);
  CAF_CHECK_EQUAL(watcher.waits().back().name,
                  sent["metadata"]["name"].get<std::string>());
}

CAF_TEST(a create that finds its own object adopts it) {
  start(1h);
  auto out = sign();
  // An earlier attempt got through: the API server answers 409.
  auto [sent, name, get] = until_read_back();
  CAF_CHECK_EQUAL(kube.at(get).name, name);
  // What cert-manager's webhook adds does not matter.
  auto stored = sent;
  stored["spec"]["username"] = "system:serviceaccount:cert-manager:istio-csr";
  stored["metadata"]["uid"] = "1234";
  kube.answer(get, stored);
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "<none>");
  CAF_REQUIRE_EQUAL(watcher.waits().size(), 1u);
  CAF_CHECK_EQUAL(watcher.waits().back().name, name);
  CAF_CHECK_EQUAL(kube.find(kube::verb::create, "certificaterequests").size(),
                  1u);
}

CAF_TEST(a create that finds a strangers object takes a new name) {
  start(1h);
  auto out = sign();
  auto [sent, name, get] = until_read_back();
  CAF_CHECK_EQUAL(kube.at(get).name, name);
  // Another writer's object: another CSR.
  auto theirs = sent;
  theirs["spec"]["request"] = "b3RoZXI=";
  kube.answer(get, theirs);
  sched.run();
  CAF_CHECK(watcher.waits().empty());
  CAF_CHECK_EQUAL(out->code(), "<none>");
  auto again = pending_create();
  auto renamed = kube.at(again).body;
  CAF_CHECK_NOT_EQUAL(renamed["metadata"]["name"].get<std::string>(), name);
  renamed["metadata"]["name"] = name;
  CAF_CHECK_EQUAL(renamed, sent);
  // Never deleted: it is not ours.
  CAF_CHECK_EQUAL(deletes_of(name), 0u);
}

CAF_TEST(a create answered after the deadline deletes the object) {
  start(10s);
  auto out = sign();
  answer_review();
  auto create = pending_create();
  CAF_CHECK_EQUAL(pool->in_use(), 1u);
  advance_time(10s - 1ns);
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "<none>");
  advance_time(1ns);
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "timed_out");
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  // The API server created the object all the same; its answer comes late.
  auto name = answer_create(create);
  sched.run();
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
  CAF_CHECK(watcher.waits().empty());
  CAF_CHECK_EQUAL(out->results.size(), 1u);
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  auto st = stats();
  CAF_CHECK_EQUAL(st.active, 0u);
  CAF_CHECK_EQUAL(st.finished, 1u);
}

CAF_TEST(a create answered after a cancel deletes the object) {
  start(10s);
  auto out = sign();
  answer_review();
  auto create = pending_create();
  out->reply->cancel_by_caller();
  CAF_CHECK_EQUAL(out->code(), "cancelled");
  sched.run();
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  auto name = answer_create(create);
  sched.run();
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
  CAF_CHECK(watcher.waits().empty());
  CAF_CHECK_EQUAL(out->results.size(), 1u);
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  // The deadline passes later: nothing more happens.
  advance_time(10s);
  sched.run();
  CAF_CHECK_EQUAL(out->results.size(), 1u);
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  CAF_CHECK_EQUAL(stats().finished, 1u);
}

CAF_TEST(the final event just before the deadline wins) {
  start(10s);
  auto t0 = now();
  auto out = sign();
  auto name = until_wait(*out);
  advance_time(9s);
  sched.run();
  // Both land in the signer's mailbox before it runs: the object first.
  watcher.answer(watcher.pending_one(), issued(name));
  run_watcher_only();
  advance_time(t0 + 10s - now());
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "ok");
  CAF_REQUIRE(out->results.size() == 1 && out->results.front());
  CAF_CHECK_EQUAL(out->results.front()->back(), ca.cert.to_pem());
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
  // The wait was answered: nothing to withdraw.
  CAF_CHECK(watcher.unwaits().empty());
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  CAF_CHECK_EQUAL(stats().finished, 1u);
}

CAF_TEST(the deadline just before the final event wins) {
  start(10s);
  auto out = sign();
  auto name = until_wait(*out);
  // Both land in the signer's mailbox before it runs: the deadline first.
  advance_time(10s);
  watcher.answer(watcher.pending_one(), issued(name));
  run_watcher_only();
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "timed_out");
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  CAF_CHECK_EQUAL(count(watcher.unwaits(), name), 1u);
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  CAF_CHECK_EQUAL(stats().finished, 1u);
}

CAF_TEST(the deadline withdraws the wait and deletes the object) {
  start(10s);
  auto out = sign();
  auto name = until_wait(*out);
  advance_time(10s);
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "timed_out");
  CAF_CHECK_EQUAL(count(watcher.unwaits(), name), 1u);
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
  // The withdrawn wait answers wait_cancelled, which changes nothing.
  CAF_CHECK_EQUAL(out->results.size(), 1u);
  CAF_CHECK_EQUAL(out->signer_answers, 1);
}

CAF_TEST(the caller deadline bounds the request timeout) {
  start(10s);
  auto out = sign(now() + 3s);
  auto name = until_wait(*out);
  advance_time(3s - 1ns);
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "<none>");
  advance_time(1ns);
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "timed_out");
  CAF_CHECK_EQUAL(count(watcher.unwaits(), name), 1u);
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
}

CAF_TEST(a cancel during the TokenReview ends the request at once) {
  start(10s);
  auto out = sign();
  auto review = kube.pending_one(kube::verb::create, "tokenreviews");
  out->reply->cancel_by_caller();
  CAF_CHECK_EQUAL(out->code(), "cancelled");
  sched.run();
  CAF_CHECK_EQUAL(out->signer_answers, 1);
  CAF_CHECK_EQUAL(stats().active, 0u);
  // The TokenReview answers later: ignored.
  kube.answer(
    review, json{{"status",
                  {{"authenticated", true},
                   {"user",
                    {{"username", "system:serviceaccount:ns-a:sa-a"},
                     {"groups", json::array({"system:serviceaccounts"})}}}}}});
  sched.run();
  CAF_CHECK(kube.find(kube::verb::create, "certificaterequests").empty());
  CAF_CHECK_EQUAL(kube.size(), 1u);
  CAF_CHECK(watcher.waits().empty());
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  CAF_CHECK_EQUAL(out->results.size(), 1u);
  CAF_CHECK_EQUAL(out->signer_answers, 1);
}

CAF_TEST(waiting CertificateRequests are bounded and slots come back) {
  start(10s, 1);
  auto a = sign();
  auto name_a = until_wait(*a);
  CAF_CHECK_EQUAL(pool->in_use(), 1u);
  // No slot left: refused before any create.
  auto b = sign();
  answer_review();
  CAF_CHECK_EQUAL(b->code(), "issuer_overloaded");
  CAF_CHECK_EQUAL(b->signer_answers, 1);
  CAF_CHECK_EQUAL(kube.find(kube::verb::create, "certificaterequests").size(),
                  1u);
  // a ends: its slot is free for c.
  watcher.answer(watcher.pending_one(), issued(name_a));
  sched.run();
  CAF_CHECK_EQUAL(a->code(), "ok");
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  auto c = sign();
  answer_review();
  CAF_CHECK_EQUAL(kube.find(kube::verb::create, "certificaterequests").size(),
                  2u);
  CAF_CHECK_EQUAL(pool->in_use(), 1u);
  // A cancel gives the slot back too.
  c->reply->cancel_by_caller();
  sched.run();
  CAF_CHECK_EQUAL(c->code(), "cancelled");
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  auto name_c = answer_create(pending_create());
  sched.run();
  CAF_CHECK_EQUAL(deletes_of(name_c), 1u);
}

namespace {

/// A fixed wall clock for the token's `exp`: the virtual clock does not move
/// system_clock.
const auto wall_now
  = std::chrono::system_clock::time_point{std::chrono::seconds{1800000000}};

std::string b64url(const std::string& in) {
  static constexpr char digits[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(digits[(acc >> bits) & 63u]);
    }
  }
  if (bits > 0)
    out.push_back(digits[(acc << (6 - bits)) & 63u]);
  return out;
}

/// An (unsigned) JWT whose payload is `claims`.
std::string jwt(const json& claims) {
  return b64url(R"({"alg":"RS256"})") + "." + b64url(claims.dump()) + ".sig";
}

std::shared_ptr<sg::token_review_cache>
review_cache(std::chrono::nanoseconds ttl, std::size_t capacity = 4096) {
  return std::make_shared<sg::token_review_cache>(
    std::chrono::duration_cast<sg::token_review_cache::duration>(ttl), capacity,
    [] { return wall_now; });
}

} // namespace

CAF_TEST(a successful review is reused until the TTL) {
  auto cache = review_cache(10s);
  start(1h, 64, cache);
  auto reviews
    = [&] { return kube.find(kube::verb::create, "tokenreviews").size(); };
  auto creates = [&] {
    return kube.find(kube::verb::create, "certificaterequests").size();
  };
  sign();
  answer_review();
  CAF_CHECK_EQUAL(reviews(), 1u);
  CAF_CHECK_EQUAL(creates(), 1u);
  CAF_CHECK_EQUAL(cache->size(), 1u);
  // The same token: no second review, the request goes on.
  sign();
  CAF_CHECK_EQUAL(reviews(), 1u);
  CAF_CHECK_EQUAL(creates(), 2u);
  advance_time(10s - 1ns);
  sched.run();
  sign();
  CAF_CHECK_EQUAL(reviews(), 1u);
  CAF_CHECK_EQUAL(creates(), 3u);
  // At the TTL (counted from the review, not from the last hit): a review.
  advance_time(1ns);
  sched.run();
  sign();
  CAF_CHECK_EQUAL(reviews(), 2u);
  answer_review();
  CAF_CHECK_EQUAL(creates(), 4u);
  // Another token is another entry.
  sign(time_point::max(), "b-token");
  CAF_CHECK_EQUAL(reviews(), 3u);
  answer_review();
  CAF_CHECK_EQUAL(cache->size(), 2u);
  // Nothing in the cache is the token.
  auto key = sg::token_review_cache::key_of("a-token", {"istio-ca"});
  CAF_CHECK_EQUAL(key.size(), 32u);
  auto status = cache->find(key, now());
  CAF_REQUIRE(status.has_value());
  CAF_CHECK(status->dump().find("a-token") == std::string::npos);
  CAF_CHECK_EQUAL(status->at("user").at("username").get<std::string>(),
                  "system:serviceaccount:ns-a:sa-a");
}

CAF_TEST(the TTL counts from when the review was asked) {
  auto cache = review_cache(10s);
  start(1h, 64, cache);
  auto reviews
    = [&] { return kube.find(kube::verb::create, "tokenreviews").size(); };
  auto t0 = now();
  sign();
  advance_time(3s);
  sched.run();
  answer_review();
  advance_time(t0 + 10s - 1ns - now());
  sched.run();
  sign();
  CAF_CHECK_EQUAL(reviews(), 1u);
  advance_time(1ns);
  sched.run();
  sign();
  CAF_CHECK_EQUAL(reviews(), 2u);
}

CAF_TEST(the token expiry ends reuse before the TTL) {
  auto cache = review_cache(10s);
  start(1h, 64, cache);
  auto reviews
    = [&] { return kube.find(kube::verb::create, "tokenreviews").size(); };
  auto exp = std::chrono::duration_cast<std::chrono::seconds>(
               wall_now.time_since_epoch())
             + 4s;
  auto token
    = jwt({{"sub", "system:serviceaccount:ns-a:sa-a"}, {"exp", exp.count()}});
  sign(time_point::max(), token);
  answer_review();
  sign(time_point::max(), token);
  CAF_CHECK_EQUAL(reviews(), 1u);
  advance_time(4s - 1ns);
  sched.run();
  sign(time_point::max(), token);
  CAF_CHECK_EQUAL(reviews(), 1u);
  advance_time(1ns);
  sched.run();
  sign(time_point::max(), token);
  CAF_CHECK_EQUAL(reviews(), 2u);
  answer_review();
  // An `exp` already passed (as the fixed wall clock reads it) is not kept.
  auto stale = jwt({{"exp", exp.count() - 10}});
  sign(time_point::max(), stale);
  answer_review();
  sign(time_point::max(), stale);
  CAF_CHECK_EQUAL(reviews(), 4u);
  answer_review();
  // An `exp` later than the TTL does not lengthen it; an unparsable payload
  // gets the TTL.
  for (auto tok :
       {jwt({{"exp", exp.count() + 3600}}), std::string{"x.%%%.y"}}) {
    auto before = reviews();
    sign(time_point::max(), tok);
    answer_review();
    advance_time(10s - 1ns);
    sched.run();
    sign(time_point::max(), tok);
    CAF_CHECK_EQUAL(reviews(), before + 1);
    advance_time(1ns);
    sched.run();
    sign(time_point::max(), tok);
    CAF_CHECK_EQUAL(reviews(), before + 2);
    answer_review();
  }
}

CAF_TEST(failed reviews are not cached) {
  auto cache = review_cache(10s);
  start(1h, 64, cache);
  auto reviews
    = [&] { return kube.find(kube::verb::create, "tokenreviews").size(); };
  // The API server fails.
  auto out = sign();
  kube.fail(kube.pending_one(kube::verb::create, "tokenreviews"),
            kube::make_error(kube::errc::server_error));
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "unauthenticated");
  // The token is not authenticated.
  out = sign();
  CAF_CHECK_EQUAL(reviews(), 2u);
  kube.answer(kube.pending_one(kube::verb::create, "tokenreviews"),
              json{{"status", {{"error", "invalid bearer token"}}}});
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "unauthenticated");
  // Authenticated, but not a service account: refused, not cached either.
  out = sign();
  CAF_CHECK_EQUAL(reviews(), 3u);
  kube.answer(kube.pending_one(kube::verb::create, "tokenreviews"),
              json{{"status",
                    {{"authenticated", true},
                     {"user",
                      {{"username", "alice"},
                       {"groups", json::array({"system:authenticated"})}}}}}});
  sched.run();
  CAF_CHECK_EQUAL(out->code(), "unauthenticated");
  CAF_CHECK_EQUAL(cache->size(), 0u);
  // The next call asks again, and its success is kept.
  sign();
  CAF_CHECK_EQUAL(reviews(), 4u);
  answer_review();
  sign();
  CAF_CHECK_EQUAL(reviews(), 4u);
}

CAF_TEST(the cache is bounded and evicts the least recently used) {
  auto cache = review_cache(10s, 2);
  start(1h, 64, cache);
  auto reviews
    = [&] { return kube.find(kube::verb::create, "tokenreviews").size(); };
  auto review = [&](const std::string& token) {
    auto before = reviews();
    sign(time_point::max(), token);
    if (reviews() == before)
      return false;
    answer_review();
    return true;
  };
  CAF_CHECK(review("a"));
  CAF_CHECK(review("b"));
  CAF_CHECK(!review("a")); // a is now the most recently used
  CAF_CHECK(review("c"));  // evicts b
  CAF_CHECK_EQUAL(cache->size(), 2u);
  CAF_CHECK(!review("a"));
  CAF_CHECK(!review("c"));
  CAF_CHECK(review("b")); // evicts a
  CAF_CHECK(review("a"));
  CAF_CHECK_EQUAL(cache->size(), 2u);
}

CAF_TEST(a TTL of zero disables the cache) {
  auto cache = review_cache(0s);
  start(1h, 64, cache);
  for (std::size_t i = 1; i <= 3; ++i) {
    sign();
    CAF_CHECK_EQUAL(kube.find(kube::verb::create, "tokenreviews").size(), i);
    answer_review();
  }
  CAF_CHECK_EQUAL(cache->size(), 0u);
  // From the command line: 0 means no cache at all, the default 10 s one.
  config::options opts;
  opts.serving.token_review_cache_ttl = 0s;
  CAF_CHECK(!sg::settings_from(opts).token_reviews);
  opts.serving.token_review_cache_ttl = 10s;
  auto with = sg::settings_from(opts).token_reviews;
  CAF_REQUIRE(with);
  CAF_CHECK(with->ttl() == 10s);
  CAF_CHECK_EQUAL(with->capacity(), 4096u);
}

CAF_TEST(an orderly stop deletes what the signer created before it ends) {
  start();
  auto down = std::make_shared<bool>(false);
  helpers.push_back(sys.spawn(
    [](caf::event_based_actor* s, caf::actor target,
       std::shared_ptr<bool> down) -> caf::behavior {
      s->monitor(target);
      s->set_down_handler([down](caf::down_msg&) { *down = true; });
      return {[](int) {}};
    },
    caf::actor_cast<caf::actor>(signer), down));
  sched.run();
  // One call waits on the issuer, one has its create on the way, one its
  // TokenReview.
  auto waiting = sign();
  auto name = until_wait(*waiting);
  auto creating = sign(time_point::max(), "b-token");
  answer_review();
  auto create = pending_create();
  auto reviewing = sign(time_point::max(), "c-token");
  auto review = kube.pending_one(kube::verb::create, "tokenreviews");
  caf::anon_send_exit(signer, caf::exit_reason::user_shutdown);
  sched.run();
  // Every call ends at once, with a code istio-agent retries.
  CAF_CHECK_EQUAL(waiting->code(), "signer_unavailable");
  CAF_CHECK_EQUAL(creating->code(), "signer_unavailable");
  CAF_CHECK_EQUAL(reviewing->code(), "signer_unavailable");
  // What is not sent yet never will be (the kube client drops it).
  CAF_CHECK(kube.at(review).cancel.stop_requested());
  CAF_CHECK(kube.at(create).cancel.stop_requested());
  // The waiting call's object goes; the signer stays for that delete and
  // for the create on its way.
  CAF_CHECK_EQUAL(deletes_of(name), 1u);
  CAF_CHECK(!*down);
  // The create was on the wire after all: that object goes too.
  auto created = answer_create(create);
  sched.run();
  CAF_CHECK_EQUAL(deletes_of(created), 1u);
  CAF_CHECK(!*down);
  // New calls meanwhile are refused, retriable.
  auto late = sign(time_point::max(), "d-token");
  CAF_CHECK_EQUAL(late->code(), "signer_unavailable");
  // Both deletes answered: the signer is done.
  for (auto i : kube.pending(kube::verb::remove, "certificaterequests"))
    kube.answer(i, json{{"kind", "Status"}, {"status", "Success"}});
  sched.run();
  CAF_CHECK(*down);
}

CAF_TEST_FIXTURE_SCOPE_END()
