#include "kube/client/kubeconfig.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "kube/api/base64.hpp"
#include "kube/api/errc.hpp"

namespace istio_csr::kube {

namespace {

/// Thrown inside the parser only; turned into a caf::error at the boundary.
struct parse_failure {
  std::string field;
  std::string what;
};

std::string resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || dir.empty() || std::filesystem::path{path}.is_absolute())
    return path;
  if (path.starts_with("~/")) // kubectl expands ~ for these fields
    return path;
  return (std::filesystem::path{dir} / path).lexically_normal().string();
}

std::string expand_home(const std::string& path) {
  if (!path.starts_with("~/"))
    return path;
  if (auto home = std::getenv("HOME"))
    return std::string{home} + path.substr(1);
  return path;
}

class entry_reader {
 public:
  entry_reader(const YAML::Node& node, std::string prefix)
    : node_(node), prefix_(std::move(prefix)) {
    if (node_ && !node_.IsNull() && !node_.IsMap())
      throw parse_failure{prefix_, "expected a mapping"};
  }

  std::string field(std::string_view key) const {
    return prefix_ + "." + std::string{key};
  }

  std::string str(const char* key) const {
    if (!node_ || node_.IsNull())
      return {};
    auto x = node_[key];
    if (!x || x.IsNull())
      return {};
    if (!x.IsScalar())
      throw parse_failure{field(key), "expected a string"};
    return x.as<std::string>();
  }

  bool boolean(const char* key) const {
    if (!node_ || node_.IsNull())
      return false;
    auto x = node_[key];
    if (!x || x.IsNull())
      return false;
    bool result = false;
    if (!x.IsScalar() || !YAML::convert<bool>::decode(x, result))
      throw parse_failure{field(key), "expected true or false"};
    return result;
  }

  std::string base64(const char* key) const {
    auto text = str(key);
    if (text.empty())
      return {};
    auto decoded = base64_decode(text);
    if (!decoded)
      throw parse_failure{field(key), "invalid base64"};
    return std::move(*decoded);
  }

  std::vector<std::string> list(const char* key) const {
    std::vector<std::string> result;
    if (!node_ || node_.IsNull())
      return result;
    auto x = node_[key];
    if (!x || x.IsNull())
      return result;
    if (!x.IsSequence())
      throw parse_failure{field(key), "expected a list of strings"};
    for (auto item : x) {
      if (!item.IsScalar())
        throw parse_failure{field(key), "expected a list of strings"};
      result.push_back(item.as<std::string>());
    }
    return result;
  }

  bool has(const char* key) const {
    return node_ && node_.IsMap() && node_[key] && !node_[key].IsNull();
  }

  const YAML::Node& node() const {
    return node_;
  }

 private:
  YAML::Node node_;
  std::string prefix_;
};

/// Calls `fun(index, name, inner_node, prefix)` for each `- name: x,
/// <inner>: {...}` entry of a top-level list.
template <class F>
void for_each_entry(const YAML::Node& root, const char* list, const char* inner,
                    F fun) {
  auto seq = root[list];
  if (!seq || seq.IsNull())
    return;
  if (!seq.IsSequence())
    throw parse_failure{list, "expected a list"};
  size_t index = 0;
  for (auto item : seq) {
    auto prefix = std::string{list} + "[" + std::to_string(index) + "]";
    if (!item.IsMap())
      throw parse_failure{prefix, "expected a mapping"};
    auto name = item["name"];
    if (!name || !name.IsScalar() || name.as<std::string>().empty())
      throw parse_failure{prefix + ".name", "missing"};
    fun(index, name.as<std::string>(),
        entry_reader{item[inner], prefix + "." + inner});
    ++index;
  }
}

} // namespace

void kubeconfig::merge(const kubeconfig& other) {
  for (auto& [name, value] : other.clusters)
    clusters.emplace(name, value);
  for (auto& [name, value] : other.users)
    users.emplace(name, value);
  for (auto& [name, value] : other.contexts)
    contexts.emplace(name, value);
  if (current_context.empty())
    current_context = other.current_context;
  files.insert(files.end(), other.files.begin(), other.files.end());
}

std::string field_path(const kubeconfig::origin& from, std::string_view list,
                       std::string_view field) {
  std::string result = "kubeconfig ";
  result += from.file;
  result += ": ";
  result += list;
  result += '[';
  result += std::to_string(from.index);
  result += "].";
  result += list.substr(0, list.size() - 1); // clusters -> cluster
  result += '.';
  result += field;
  return result;
}

caf::expected<kubeconfig> parse_kubeconfig(std::string_view yaml,
                                           const std::string& path) {
  auto fail = [&](const std::string& field, const std::string& what) {
    std::string msg = "kubeconfig " + path + ": ";
    if (!field.empty())
      msg += field + ": ";
    msg += what;
    return make_error(errc::config_error, std::move(msg));
  };
  YAML::Node root;
  try {
    root = YAML::Load(std::string{yaml});
  } catch (const YAML::ParserException& e) {
    return fail("line " + std::to_string(e.mark.line + 1) + ", column "
                  + std::to_string(e.mark.column + 1),
                e.msg);
  } catch (const YAML::Exception& e) {
    return fail({}, e.what());
  }
  kubeconfig result;
  result.files.push_back(path);
  if (!root || root.IsNull())
    return result;
  if (!root.IsMap())
    return fail({}, "expected a mapping at the top level");
  auto dir = std::filesystem::path{path}.parent_path().string();
  try {
    auto file_path = [&](const entry_reader& r, const char* key) {
      return expand_home(resolve(dir, r.str(key)));
    };
    for_each_entry(
      root, "clusters", "cluster",
      [&](size_t index, const std::string& name, const entry_reader& r) {
        kubeconfig::cluster c;
        c.server = r.str("server");
        c.certificate_authority = file_path(r, "certificate-authority");
        c.certificate_authority_data = r.base64("certificate-authority-data");
        c.tls_server_name = r.str("tls-server-name");
        c.insecure_skip_tls_verify = r.boolean("insecure-skip-tls-verify");
        c.from = {path, index};
        result.clusters.emplace(name, std::move(c));
      });
    for_each_entry(
      root, "users", "user",
      [&](size_t index, const std::string& name, const entry_reader& r) {
        kubeconfig::user u;
        u.client_certificate = file_path(r, "client-certificate");
        u.client_certificate_data = r.base64("client-certificate-data");
        u.client_key = file_path(r, "client-key");
        u.client_key_data = r.base64("client-key-data");
        u.token = r.str("token");
        u.token_file = file_path(r, "tokenFile");
        u.as = r.str("as");
        u.as_uid = r.str("as-uid");
        u.as_groups = r.list("as-groups");
        if (r.has("as-user-extra")) {
          auto extra = r.node()["as-user-extra"];
          if (!extra.IsMap())
            throw parse_failure{r.field("as-user-extra"), "expected a mapping"};
          entry_reader er{extra, r.field("as-user-extra")};
          for (auto kv : extra)
            u.as_user_extra[kv.first.as<std::string>()]
              = er.list(kv.first.as<std::string>().c_str());
        }
        u.has_exec = r.has("exec");
        u.has_auth_provider = r.has("auth-provider");
        u.has_basic_auth = r.has("username") || r.has("password");
        u.from = {path, index};
        result.users.emplace(name, std::move(u));
      });
    for_each_entry(
      root, "contexts", "context",
      [&](size_t index, const std::string& name, const entry_reader& r) {
        kubeconfig::context c;
        c.cluster = r.str("cluster");
        c.user = r.str("user");
        c.namespace_ = r.str("namespace");
        c.from = {path, index};
        result.contexts.emplace(name, std::move(c));
      });
    auto current = root["current-context"];
    if (current && !current.IsNull()) {
      if (!current.IsScalar())
        throw parse_failure{"current-context", "expected a string"};
      result.current_context = current.as<std::string>();
    }
  } catch (const parse_failure& e) {
    return fail(e.field, e.what);
  } catch (const YAML::Exception& e) {
    return fail({}, e.what());
  }
  return result;
}

caf::expected<kubeconfig> load_kubeconfig_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::config_error,
                      "kubeconfig " + path
                        + ": cannot read the file: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_kubeconfig(buf.str(), path);
}

} // namespace istio_csr::kube
