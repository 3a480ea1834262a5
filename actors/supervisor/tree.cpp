#include "actors/supervisor/tree.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/message_priority.hpp"

#include "actors/supervisor/errors.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"

namespace istio_csr::actors {

namespace {

using introspection::actor_info;
using introspection::introspect_atom;
using introspection::tree_node;

std::string no_answer(const caf::error& err) {
  return "no answer: " + errors::message(err);
}

caf::timespan remaining(caf::event_based_actor* self,
                        caf::actor_clock::time_point deadline) {
  return std::max(caf::timespan{0}, deadline - self->clock().now());
}

/// Fills `node` from what its actor said.
void take(tree_node& node, actor_info& info) {
  node.mailbox = info.mailbox;
  node.state = std::move(info.state);
  node.supervisor = info.supervisor;
  node.children = std::move(info.children);
}

/// Collects the nodes of one supervisor's children; `done` runs once the
/// last answer (or timeout) is in.
struct gathering {
  std::vector<tree_node> nodes;
  size_t pending = 0;
  std::function<void(std::vector<tree_node>)> done;

  void finish_one() {
    if (--pending == 0)
      done(std::move(nodes));
  }
};

/// Asks the supervisor that child `i` runs itself (named in its answer
/// `info`) and adds it as that child's only child.
void follow_owned(caf::event_based_actor* self, std::shared_ptr<gathering> g,
                  size_t i, const actor_info& info,
                  caf::actor_clock::time_point deadline) {
  tree_node owned;
  owned.name
    = info.owned_name.empty() ? std::string{"supervisor"} : info.owned_name;
  owned.incarnation = info.owned_starts;
  owned.running = true;
  owned.supervisor = true;
  owned.actor = info.owned_supervisor;
  auto left = remaining(self, deadline);
  if (left <= caf::timespan::zero()) {
    owned.state = "no answer: deadline passed";
    g->nodes[i].children.push_back(std::move(owned));
    g->finish_one();
    return;
  }
  auto node = std::make_shared<tree_node>(std::move(owned));
  self->request(node->actor, left, introspect_atom::value, left)
    .then(
      [g, i, node](actor_info& sub) {
        take(*node, sub);
        g->nodes[i].children.push_back(std::move(*node));
        g->finish_one();
      },
      [g, i, node](caf::error& err) {
        node->state = no_answer(err);
        g->nodes[i].children.push_back(std::move(*node));
        g->finish_one();
      });
}

} // namespace

namespace detail {

void gather_children(caf::event_based_actor* self,
                     std::vector<tree_node> children,
                     caf::actor_clock::time_point deadline,
                     std::function<void(std::vector<tree_node>)> done) {
  auto g = std::make_shared<gathering>();
  g->done = std::move(done);
  g->nodes = std::move(children);
  auto parent = caf::actor_cast<caf::actor>(self);
  std::vector<size_t> asks;
  for (size_t i = 0; i < g->nodes.size(); ++i) {
    g->nodes[i].parent = parent;
    if (g->nodes[i].running)
      asks.push_back(i);
  }
  if (asks.empty()) {
    g->done(std::move(g->nodes));
    return;
  }
  g->pending = asks.size();
  for (auto i : asks) {
    auto left = remaining(self, deadline);
    if (left <= caf::timespan::zero()) {
      g->nodes[i].state = "no answer: deadline passed";
      g->finish_one();
      continue;
    }
    self->request(g->nodes[i].actor, left, introspect_atom::value, left)
      .then(
        [self, g, i, deadline](actor_info& info) {
          take(g->nodes[i], info);
          if (info.owned_supervisor)
            follow_owned(self, g, i, info, deadline);
          else
            g->finish_one();
        },
        [g, i](caf::error& err) {
          g->nodes[i].state = no_answer(err);
          g->finish_one();
        });
  }
}

void crash(caf::event_based_actor* self, const caf::actor& incarnation,
           caf::error reason) {
  if (!reason || reason == caf::exit_reason::normal
      || reason == caf::exit_reason::user_shutdown)
    reason = make_error(supervisor_errc::killed);
  // High priority: ahead of the ordinary messages already queued, as a
  // crash in the handler running now would be.
  self->send<caf::message_priority::high>(incarnation, std::move(reason));
}

} // namespace detail

void query_tree(caf::event_based_actor* self, const caf::actor& root,
                caf::timespan budget,
                std::function<void(caf::expected<tree_node>)> done) {
  self->request(root, budget, introspect_atom::value, budget)
    .then(
      [root, done](actor_info& info) {
        tree_node node;
        node.name = info.name.empty() ? std::string{"root"} : info.name;
        node.incarnation = 1;
        node.running = true;
        node.actor = root;
        take(node, info);
        introspection::assign_paths(node);
        done(std::move(node));
      },
      [done](caf::error& err) { done(std::move(err)); });
}

void kill_node(caf::event_based_actor* self, const tree_node& node,
               caf::error reason, std::function<void(caf::error)> done) {
  if (node.parent) {
    self
      ->request(node.parent, std::chrono::seconds{5}, kill_child_atom::value,
                node.name, std::move(reason))
      .then([done] { done(caf::error{}); },
            [done](caf::error& err) { done(std::move(err)); });
    return;
  }
  if (!node.actor) {
    done(make_error(supervisor_errc::no_such_child, node.path));
    return;
  }
  detail::crash(self, node.actor, std::move(reason));
  done(caf::error{});
}

} // namespace istio_csr::actors
