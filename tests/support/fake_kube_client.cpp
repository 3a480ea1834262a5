#include "tests/support/fake_kube_client.hpp"

#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"
#include "caf/test/unit_test.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "kube/api/errc.hpp"

namespace istio_csr::test {

namespace {

struct fake_kube_state {
  std::shared_ptr<fake_kube_log> log;
  /// The promise of each request not delivered yet, by index. Held here, not
  /// in the shared log: a promise holds the fake, which holds the log.
  std::unordered_map<std::size_t, caf::typed_response_promise<kube::response>>
    promises;

  static inline const char* name = "fake-kube-client";
};

using fake_kube_pointer = fake_kube_actor::stateful_pointer<fake_kube_state>;

template <class T>
void deliver(fake_kube_pointer self, std::size_t i, T&& x) {
  auto j = self->state.promises.find(i);
  if (j == self->state.promises.end())
    return;
  auto rp = std::move(j->second);
  self->state.promises.erase(j);
  rp.deliver(std::forward<T>(x));
}

fake_kube_actor::behavior_type
fake_kube_impl(fake_kube_pointer self, std::shared_ptr<fake_kube_log> log) {
  self->state.log = std::move(log);
  // Stopped (the end of a test): what it never answered fails, so that an
  // actor waiting for its answers (a signer's orderly stop) can end too.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (!msg.reason || msg.reason == caf::exit_reason::normal)
      return;
    auto promises = std::move(self->state.promises);
    self->state.promises.clear();
    for (auto& [i, rp] : promises)
      rp.deliver(kube::make_error(kube::errc::cancelled, "fake stopped"));
    self->quit(std::move(msg.reason));
  });
  return {
    [self](kube::request& req) -> caf::result<kube::response> {
      auto& st = self->state;
      auto rp = self->make_response_promise<kube::response>();
      st.promises.emplace(st.log->calls.size(), rp);
      st.log->calls.push_back(fake_kube_call{std::move(req), false});
      return rp;
    },
    [self](fake_answer_atom, std::size_t i, kube::response& res) {
      deliver(self, i, std::move(res));
    },
    [self](fake_answer_atom, std::size_t i, caf::error& err) {
      deliver(self, i, std::move(err));
    },
  };
}

bool matches(const kube::request& req, kube::verb v,
             const std::string& plural) {
  return req.method == v && (plural.empty() || req.res.plural == plural);
}

} // namespace

fake_kube_client::fake_kube_client(caf::actor_system& sys)
  : log_(std::make_shared<fake_kube_log>()),
    actor_(sys.spawn(fake_kube_impl, log_)) {
  // nop
}

const kube::request& fake_kube_client::at(std::size_t i) const {
  CAF_REQUIRE(i < log_->calls.size());
  return log_->calls[i].req;
}

bool fake_kube_client::answered(std::size_t i) const {
  CAF_REQUIRE(i < log_->calls.size());
  return log_->calls[i].answered;
}

std::vector<std::size_t>
fake_kube_client::find(kube::verb v, const std::string& plural) const {
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < log_->calls.size(); ++i)
    if (matches(log_->calls[i].req, v, plural))
      result.push_back(i);
  return result;
}

std::vector<std::size_t>
fake_kube_client::pending(kube::verb v, const std::string& plural) const {
  std::vector<std::size_t> result;
  for (auto i : find(v, plural))
    if (!log_->calls[i].answered)
      result.push_back(i);
  return result;
}

std::size_t fake_kube_client::pending_one(kube::verb v,
                                          const std::string& plural) const {
  auto xs = pending(v, plural);
  if (xs.size() != 1)
    CAF_FAIL("expected one pending " << to_string(v) << " of "
                                     << (plural.empty() ? "anything" : plural)
                                     << ", found " << xs.size());
  return xs.front();
}

std::size_t fake_kube_client::unanswered() const {
  std::size_t result = 0;
  for (auto& c : log_->calls)
    if (!c.answered)
      ++result;
  return result;
}

void fake_kube_client::require_unanswered(std::size_t i) const {
  if (i >= log_->calls.size())
    CAF_FAIL("no request " << i << " (" << log_->calls.size() << " so far)");
  if (log_->calls[i].answered)
    CAF_FAIL("request " << i << " was answered already");
}

void fake_kube_client::answer(std::size_t i, nlohmann::json body) {
  require_unanswered(i);
  log_->calls[i].answered = true;
  caf::anon_send(actor_, fake_answer_atom::value, i,
                 kube::response{std::move(body)});
}

void fake_kube_client::fail(std::size_t i, caf::error err) {
  require_unanswered(i);
  log_->calls[i].answered = true;
  caf::anon_send(actor_, fake_answer_atom::value, i, std::move(err));
}

} // namespace istio_csr::test
