#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::kube {

/// A parsed (and possibly merged) kubeconfig: the clusters, users and
/// contexts of one or more files. File paths inside are already resolved
/// against the directory of the file that named them; `*-data` fields are
/// already base64-decoded. Every entry remembers where it came from, so that
/// later errors name the file and the field.
struct kubeconfig {
  /// Where an entry was defined: `file` and its index in the file's list.
  struct origin {
    std::string file;
    size_t index = 0;
  };

  struct cluster {
    std::string server;
    std::string certificate_authority; ///< path
    std::string certificate_authority_data;
    std::string tls_server_name;
    bool insecure_skip_tls_verify = false;
    origin from;
  };

  struct user {
    std::string client_certificate; ///< path
    std::string client_certificate_data;
    std::string client_key; ///< path
    std::string client_key_data;
    std::string token;
    std::string token_file; ///< path
    std::string as;
    std::string as_uid;
    std::vector<std::string> as_groups;
    std::map<std::string, std::vector<std::string>> as_user_extra;
    bool has_exec = false;          ///< `exec` plugins are not supported
    bool has_auth_provider = false; ///< neither are `auth-provider`s
    bool has_basic_auth = false;    ///< nor username/password
    origin from;
  };

  struct context {
    std::string cluster;
    std::string user;
    std::string namespace_;
    origin from;
  };

  std::map<std::string, cluster> clusters;
  std::map<std::string, user> users;
  std::map<std::string, context> contexts;
  std::string current_context;
  /// The files this config was read from, in precedence order.
  std::vector<std::string> files;

  /// Whether nothing was defined (no file, or only empty files).
  bool empty() const noexcept {
    return clusters.empty() && users.empty() && contexts.empty()
           && current_context.empty();
  }

  /// Merges `other` into this config as kubectl merges `KUBECONFIG`: the
  /// first definition of a name wins, and the first non-empty
  /// `current-context` wins.
  void merge(const kubeconfig& other);
};

/// Parses kubeconfig YAML. `path` names the file in error messages and
/// relative paths resolve against its directory. Errors (`errc::config_error`)
/// read e.g. `kubeconfig /x/config: users[0].user.client-key-data: invalid
/// base64`.
caf::expected<kubeconfig> parse_kubeconfig(std::string_view yaml,
                                           const std::string& path);

/// Reads and parses the kubeconfig file at `path`.
caf::expected<kubeconfig> load_kubeconfig_file(const std::string& path);

/// Field path of a cluster/user/context entry for error messages, e.g.
/// `kubeconfig /x/config: users[0].user.client-key`.
std::string field_path(const kubeconfig::origin& from, std::string_view list,
                       std::string_view field);

} // namespace istio_csr::kube
