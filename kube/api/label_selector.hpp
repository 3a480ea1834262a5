#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::kube {

/// One requirement of a label selector, e.g. `env in (a,b)` or `!key`.
struct label_requirement {
  enum class op { equals, not_equals, in, not_in, exists, does_not_exist };
  std::string key;
  op operation = op::exists;
  /// Sorted, deduplicated values; one value for equals/not_equals.
  std::vector<std::string> values;

  friend bool operator==(const label_requirement&,
                         const label_requirement&) = default;
};

/// A parsed Kubernetes label selector with the full string syntax of
/// k8s.io/apimachinery/pkg/labels: `=`, `==`, `!=`, `in`, `notin`, `key`,
/// `!key`, comma-separated (all must hold). The empty selector matches
/// everything.
class label_selector {
public:
  label_selector() = default;

  /// Parses `text`; an error names the offending position and token.
  static caf::expected<label_selector> parse(std::string_view text);

  /// Returns whether `labels` satisfy every requirement.
  bool matches(const std::map<std::string, std::string>& labels) const;

  /// Returns whether this selector has no requirements.
  bool empty() const noexcept {
    return requirements_.empty();
  }

  const std::vector<label_requirement>& requirements() const noexcept {
    return requirements_;
  }

  /// Canonical string form, suitable for a `labelSelector` query parameter.
  std::string to_string() const;

private:
  std::vector<label_requirement> requirements_;
};

/// A parsed field selector (`metadata.name=x,metadata.namespace!=y`): only
/// `=`, `==` and `!=` exist for fields.
class field_selector {
public:
  struct term {
    std::string field;
    bool negated = false;
    std::string value;
  };

  field_selector() = default;

  static caf::expected<field_selector> parse(std::string_view text);

  /// `lookup(field)` returns the object's value for a field path.
  template <class Lookup>
  bool matches(Lookup&& lookup) const {
    for (auto& t : terms_)
      if ((lookup(t.field) == t.value) == t.negated)
        return false;
    return true;
  }

  bool empty() const noexcept {
    return terms_.empty();
  }

  const std::vector<term>& terms() const noexcept {
    return terms_;
  }

  std::string to_string() const;

private:
  std::vector<term> terms_;
};

} // namespace istio_csr::kube
