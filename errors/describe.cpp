#include "errors/describe.hpp"

#include <mutex>
#include <unordered_map>

#include "caf/actor_system_config.hpp"
#include "caf/message.hpp"
#include "caf/sec.hpp"

namespace istio_csr::errors {

namespace {

struct category_info {
  std::string prefix;
  code_namer namer = nullptr;
};

struct registry {
  std::mutex mtx;
  std::unordered_map<uint64_t, category_info> categories;
};

registry& the_registry() {
  // Never destroyed: errors are made and rendered on any thread (the kube
  // client's I/O thread among them), also while the process exits.
  static auto* instance = new registry;
  return *instance;
}

std::string context_strings(const caf::message& ctx) {
  std::string out;
  for (size_t i = 0; i < ctx.size(); ++i) {
    if (ctx.match_element<std::string>(i)) {
      const auto& s = ctx.get_as<std::string>(i);
      if (s.empty())
        continue;
      if (!out.empty())
        out += ": ";
      out += s;
    }
  }
  return out;
}

std::string render(uint8_t code, caf::atom_value category,
                   const caf::message& ctx) {
  std::string result;
  if (category == caf::atom("system")) {
    result = "system.";
    result += caf::to_string(static_cast<caf::sec>(code));
  } else {
    auto& reg = the_registry();
    std::unique_lock<std::mutex> guard{reg.mtx};
    auto i = reg.categories.find(static_cast<uint64_t>(category));
    if (i != reg.categories.end()) {
      auto info = i->second;
      guard.unlock();
      result = info.prefix + "." + info.namer(code);
    } else {
      guard.unlock();
      result = caf::to_string(category) + "." + std::to_string(code);
    }
  }
  if (auto text = context_strings(ctx); !text.empty()) {
    result += ": ";
    result += text;
  }
  return result;
}

} // namespace

bool register_category(caf::atom_value category, const char* prefix,
                       code_namer namer) {
  auto& reg = the_registry();
  std::lock_guard<std::mutex> guard{reg.mtx};
  reg.categories.emplace(static_cast<uint64_t>(category),
                         category_info{prefix, namer});
  return true;
}

std::string describe(const caf::error& err) {
  if (!err)
    return "none";
  return render(err.code(), err.category(), err.context());
}

std::string message(const caf::error& err) {
  if (!err)
    return {};
  if (auto text = context_strings(err.context()); !text.empty())
    return text;
  return describe(err);
}

void add_categories(caf::actor_system_config& cfg,
                    std::initializer_list<caf::atom_value> categories) {
  for (auto category : categories)
    cfg.add_error_category(category, render);
}

} // namespace istio_csr::errors
