#include "kube/client/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "kube/api/errc.hpp"
#include "kube/client/kubeconfig.hpp"

namespace istio_csr::kube {

namespace {

std::optional<std::string> read_file(const std::string& path,
                                     std::string& why) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

caf::error config_error(std::string msg) {
  return make_error(errc::config_error, std::move(msg));
}

/// Reads a file named in a kubeconfig field (`where` names the field).
caf::expected<std::string> read_named(const std::string& path,
                                      const std::string& where) {
  std::string why;
  auto text = read_file(path, why);
  if (!text)
    return config_error(where + ": cannot read " + path + ": " + why);
  return std::move(*text);
}

std::string trim(std::string text) {
  auto is_space
    = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.back()))
    text.pop_back();
  size_t i = 0;
  while (i < text.size() && is_space(text[i]))
    ++i;
  return text.substr(i);
}

std::string join(const std::vector<std::string>& xs, std::string_view sep) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += sep;
    result += x;
  }
  return result;
}

/// Applies the overrides that make sense without a kubeconfig (in-cluster).
caf::error apply_auth_overrides(const config::kube_client_flags& flags,
                                client_config& cfg) {
  if (!flags.certificate_authority.empty()) {
    auto ca
      = read_named(flags.certificate_authority, "--certificate-authority");
    if (!ca)
      return ca.error();
    cfg.ca_pem = std::move(*ca);
  }
  if (flags.insecure_skip_tls_verify) {
    cfg.insecure_skip_tls_verify = true;
    cfg.ca_pem.clear();
  }
  if (!flags.tls_server_name.empty())
    cfg.tls_server_name = flags.tls_server_name;
  if (!flags.client_certificate.empty()) {
    auto cert = read_named(flags.client_certificate, "--client-certificate");
    if (!cert)
      return cert.error();
    cfg.client_cert_pem = std::move(*cert);
  }
  if (!flags.client_key.empty()) {
    auto key = read_named(flags.client_key, "--client-key");
    if (!key)
      return key.error();
    cfg.client_key_pem = std::move(*key);
  }
  if (!flags.token.empty()) {
    cfg.token = flags.token;
    cfg.token_file.clear();
  }
  if (!flags.as.empty())
    cfg.impersonate_user = flags.as;
  if (!flags.as_uid.empty())
    cfg.impersonate_uid = flags.as_uid;
  if (!flags.as_group.empty())
    cfg.impersonate_groups = flags.as_group;
  for (auto& kv : flags.as_user_extra) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return config_error("--as-user-extra " + kv + ": expected KEY=VALUE");
    cfg.impersonate_extra[kv.substr(0, eq)].push_back(kv.substr(eq + 1));
  }
  return {};
}

void apply_client_settings(const config::kube_client_flags& flags,
                           client_config& cfg) {
  cfg.request_timeout = flags.request_timeout;
  cfg.qps = flags.qps;
  cfg.burst = flags.burst;
  cfg.disable_rate_limiter = flags.disable_rate_limiter;
}

caf::error check_pair(const client_config& cfg, const std::string& where) {
  if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty())
    return config_error(where
                        + ": a client certificate needs a client key "
                          "and vice versa");
  return {};
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

} // namespace

config_environment config_environment::system() {
  config_environment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (auto value = std::getenv(name.c_str()))
      return std::string{value};
    return std::nullopt;
  };
  return env;
}

caf::expected<client_config> in_cluster_config(const config_environment& env) {
  auto host = env.getenv("KUBERNETES_SERVICE_HOST");
  auto port = env.getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return config_error("in-cluster configuration: KUBERNETES_SERVICE_HOST "
                        "and KUBERNETES_SERVICE_PORT are not set (not running "
                        "in a Kubernetes pod)");
  auto dir = std::filesystem::path{env.service_account_dir};
  client_config cfg;
  cfg.source = "in-cluster";
  cfg.server = "https://";
  if (host->find(':') != std::string::npos)
    cfg.server += "[" + *host + "]";
  else
    cfg.server += *host;
  cfg.server += ":" + *port;
  cfg.token_file = (dir / "token").string();
  std::string why;
  if (!read_file(cfg.token_file, why))
    return config_error("in-cluster configuration: cannot read the "
                        "service-account token "
                        + cfg.token_file + ": " + why);
  auto ca_path = (dir / "ca.crt").string();
  auto ca = read_file(ca_path, why);
  if (!ca)
    return config_error("in-cluster configuration: cannot read the CA "
                        + ca_path + ": " + why);
  cfg.ca_pem = std::move(*ca);
  if (auto ns = read_file((dir / "namespace").string(), why))
    cfg.namespace_ = trim(std::move(*ns));
  return cfg;
}

caf::expected<client_config> load_config(const config::kube_client_flags& flags,
                                         const config_environment& env) {
  // 1. The kubeconfig files, in kubectl's precedence.
  kubeconfig merged;
  std::vector<std::string> searched;
  if (!flags.kubeconfig.empty()) {
    auto kc = load_kubeconfig_file(flags.kubeconfig);
    if (!kc)
      return kc.error();
    merged = std::move(*kc);
  } else if (auto list = env.getenv("KUBECONFIG"); list && !list->empty()) {
    std::set<std::string> seen;
    std::stringstream in{*list};
    std::string path;
    while (std::getline(in, path, ':')) {
      if (path.empty() || !seen.insert(path).second)
        continue;
      searched.push_back(path);
      if (!file_exists(path))
        continue; // kubectl ignores missing files in KUBECONFIG
      auto kc = load_kubeconfig_file(path);
      if (!kc)
        return kc.error();
      merged.merge(*kc);
    }
  } else if (auto home = env.getenv("HOME"); home && !home->empty()) {
    auto path = (std::filesystem::path{*home} / ".kube" / "config").string();
    searched.push_back(path);
    if (file_exists(path)) {
      auto kc = load_kubeconfig_file(path);
      if (!kc)
        return kc.error();
      merged = std::move(*kc);
    }
  }
  // 2. Nothing configured: in-cluster.
  if (merged.empty() && flags.server.empty()) {
    auto host = env.getenv("KUBERNETES_SERVICE_HOST");
    if (!host || host->empty()) {
      std::string msg = "no Kubernetes configuration: not running in a "
                        "cluster (KUBERNETES_SERVICE_HOST is not set) and no "
                        "kubeconfig found (--kubeconfig, KUBECONFIG";
      if (!searched.empty())
        msg += ": " + join(searched, ", ");
      msg += ", ~/.kube/config)";
      return config_error(std::move(msg));
    }
    auto cfg = in_cluster_config(env);
    if (!cfg)
      return cfg.error();
    if (auto err = apply_auth_overrides(flags, *cfg))
      return err;
    if (auto err = check_pair(*cfg, "in-cluster configuration"))
      return err;
    apply_client_settings(flags, *cfg);
    return cfg;
  }
  auto files
    = merged.files.empty() ? std::string{"(none)"} : join(merged.files, ":");
  // 3. Context, cluster and user.
  auto context_name
    = flags.context.empty() ? merged.current_context : flags.context;
  const kubeconfig::context* ctx = nullptr;
  if (!context_name.empty()) {
    auto i = merged.contexts.find(context_name);
    if (i == merged.contexts.end())
      return config_error("kubeconfig " + files + ": context \"" + context_name
                          + "\" does not exist");
    ctx = &i->second;
  }
  auto cluster_name = !flags.cluster.empty() ? flags.cluster
                      : ctx != nullptr       ? ctx->cluster
                                             : std::string{};
  auto user_name = !flags.user.empty() ? flags.user
                   : ctx != nullptr    ? ctx->user
                                       : std::string{};
  const kubeconfig::cluster* cluster = nullptr;
  if (!cluster_name.empty()) {
    auto i = merged.clusters.find(cluster_name);
    if (i == merged.clusters.end())
      return config_error("kubeconfig " + files + ": cluster \"" + cluster_name
                          + "\" does not exist");
    cluster = &i->second;
  }
  const kubeconfig::user* user = nullptr;
  if (!user_name.empty()) {
    auto i = merged.users.find(user_name);
    if (i == merged.users.end())
      return config_error("kubeconfig " + files + ": user \"" + user_name
                          + "\" does not exist");
    user = &i->second;
  }
  client_config cfg;
  cfg.source = "kubeconfig " + files;
  if (!context_name.empty())
    cfg.source += ", context " + context_name;
  if (ctx != nullptr)
    cfg.namespace_ = ctx->namespace_;
  // 4. Cluster settings.
  if (!flags.server.empty()) {
    cfg.server = flags.server;
  } else if (cluster != nullptr) {
    cfg.server = cluster->server;
    if (cfg.server.empty())
      return config_error(field_path(cluster->from, "clusters", "server")
                          + ": missing");
  } else if (context_name.empty()) {
    return config_error("kubeconfig " + files
                        + ": no current-context and no --context, --cluster "
                          "or --server given");
  } else {
    return config_error("kubeconfig " + files + ": context \"" + context_name
                        + "\" names no cluster");
  }
  if (cluster != nullptr) {
    if (cluster->insecure_skip_tls_verify
        && (!cluster->certificate_authority.empty()
            || !cluster->certificate_authority_data.empty()))
      return config_error(
        field_path(cluster->from, "clusters", "insecure-skip-tls-verify")
        + ": not allowed together with a certificate authority");
    cfg.insecure_skip_tls_verify = cluster->insecure_skip_tls_verify;
    cfg.tls_server_name = cluster->tls_server_name;
    if (!cluster->certificate_authority_data.empty()) {
      cfg.ca_pem = cluster->certificate_authority_data;
    } else if (!cluster->certificate_authority.empty()) {
      auto ca = read_named(
        cluster->certificate_authority,
        field_path(cluster->from, "clusters", "certificate-authority"));
      if (!ca)
        return ca.error();
      cfg.ca_pem = std::move(*ca);
    }
  }
  // 5. User settings.
  if (user != nullptr) {
    if (!user->client_certificate_data.empty()) {
      cfg.client_cert_pem = user->client_certificate_data;
    } else if (!user->client_certificate.empty()) {
      auto cert
        = read_named(user->client_certificate,
                     field_path(user->from, "users", "client-certificate"));
      if (!cert)
        return cert.error();
      cfg.client_cert_pem = std::move(*cert);
    }
    if (!user->client_key_data.empty()) {
      cfg.client_key_pem = user->client_key_data;
    } else if (!user->client_key.empty()) {
      auto key = read_named(user->client_key,
                            field_path(user->from, "users", "client-key"));
      if (!key)
        return key.error();
      cfg.client_key_pem = std::move(*key);
    }
    cfg.token = user->token;
    cfg.token_file = user->token_file;
    cfg.impersonate_user = user->as;
    cfg.impersonate_uid = user->as_uid;
    cfg.impersonate_groups = user->as_groups;
    cfg.impersonate_extra = user->as_user_extra;
  }
  if (auto err = apply_auth_overrides(flags, cfg))
    return err;
  if (user != nullptr) {
    auto has_credentials = !cfg.token.empty() || !cfg.token_file.empty()
                           || !cfg.client_cert_pem.empty();
    if (!has_credentials && user->has_exec)
      return config_error(field_path(user->from, "users", "exec")
                          + ": exec credential plugins are not supported");
    if (!has_credentials && user->has_auth_provider)
      return config_error(field_path(user->from, "users", "auth-provider")
                          + ": auth providers are not supported");
    if (!has_credentials && user->has_basic_auth)
      return config_error(field_path(user->from, "users", "username")
                          + ": basic authentication is not supported");
    if (!cfg.token_file.empty() && flags.token.empty()) {
      std::string why;
      if (!read_file(cfg.token_file, why))
        return config_error(field_path(user->from, "users", "tokenFile")
                            + ": cannot read " + cfg.token_file + ": " + why);
    }
  }
  if (auto err = check_pair(
        cfg, user != nullptr ? field_path(user->from, "users", "client-key")
                             : cfg.source))
    return err;
  apply_client_settings(flags, cfg);
  return cfg;
}

} // namespace istio_csr::kube
