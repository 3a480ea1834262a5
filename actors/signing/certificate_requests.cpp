#include "actors/signing/certificate_requests.hpp"

#include "kube/api/certificate_request.hpp"
#include "kube/api/object.hpp"
#include "kube/client/resource.hpp"
#include "pki/crypto.hpp"

namespace istio_csr::actors::signing {

std::string managed_by_selector() {
  std::string result{managed_by_label};
  result += '=';
  result += managed_by_value;
  return result;
}

nlohmann::json make_cr(const cr_settings& settings, const cr_request& req) {
  kube::certificate_request_spec spec;
  spec.namespace_ = settings.namespace_;
  spec.identities = req.identities;
  spec.extra_annotations = settings.annotations;
  spec.csr_pem = req.csr_pem;
  spec.duration = req.duration;
  spec.usages = req.usages;
  spec.is_ca = false;
  spec.issuer = req.issuer;
  auto cr = kube::make_certificate_request(spec);
  cr["metadata"]["labels"][std::string{managed_by_label}]
    = std::string{managed_by_value};
  if (!req.name.empty())
    cr["metadata"]["name"] = req.name;
  return cr;
}

std::string new_cr_name() {
  // The API server's alphabet (k8s.io/apimachinery/pkg/util/rand): no
  // vowels, no look-alikes; 27 characters.
  constexpr std::string_view alphabet = "bcdfghjklmnpqrstvwxz2456789";
  constexpr size_t suffix_length = 5;
  // Bytes below 243 = 9 * 27 map evenly onto the alphabet.
  constexpr unsigned limit = 243;
  std::string name = "istio-csr-";
  while (name.size() < 10 + suffix_length)
    for (unsigned char c : pki::random_bytes(2 * suffix_length))
      if (c < limit && name.size() < 10 + suffix_length)
        name += alphabet[c % alphabet.size()];
  return name;
}

namespace {

/// Whether Go's `omitempty` drops `x` when it writes it back (the API
/// server and cert-manager store `isCA: false` as no member at all).
bool is_empty_value(const nlohmann::json& x) {
  return x.is_null() || (x.is_boolean() && !x.get<bool>())
         || (x.is_number() && x == 0) || (x.is_string() && x.empty())
         || (x.is_array() && x.empty()) || (x.is_object() && x.empty());
}

/// Every member of `sent` is in `existing` with the same value (an empty
/// value may be missing).
bool contains_all(const nlohmann::json& sent, const nlohmann::json& existing) {
  if (!sent.is_object())
    return sent == existing;
  if (!existing.is_object())
    return false;
  for (auto& [key, value] : sent.items()) {
    auto i = existing.find(key);
    if (i == existing.end() ? !is_empty_value(value) : *i != value)
      return false;
  }
  return true;
}

} // namespace

bool is_same_request(const nlohmann::json& sent,
                     const nlohmann::json& existing) {
  auto part = [](const nlohmann::json& obj, const char* a, const char* b) {
    static const nlohmann::json none = nlohmann::json::object();
    auto i = obj.find(a);
    if (i == obj.end() || !i->is_object())
      return none;
    auto j = i->find(b);
    return j == i->end() ? none : *j;
  };
  auto sent_spec = sent.find("spec");
  auto existing_spec = existing.find("spec");
  return sent_spec != sent.end() && existing_spec != existing.end()
         && contains_all(*sent_spec, *existing_spec)
         && contains_all(part(sent, "metadata", "labels"),
                         part(existing, "metadata", "labels"))
         && contains_all(part(sent, "metadata", "annotations"),
                         part(existing, "metadata", "annotations"));
}

cr_outcome outcome_of(const nlohmann::json& cr) {
  kube::certificate_request_view view{cr};
  if (view.denied())
    return cr_outcome::denied;
  if (view.failed())
    return cr_outcome::failed;
  // Issued as soon as the field is set, even if it does not decode: the
  // response chain then fails to parse, which is the answer.
  if (!kube::string_at(cr, {"status", "certificate"}).empty())
    return cr_outcome::issued;
  return cr_outcome::pending;
}

finished_request finished_from(const nlohmann::json& cr) {
  kube::certificate_request_view view{cr};
  finished_request out;
  out.name = kube::object_ref{cr}.name();
  out.outcome = outcome_of(cr);
  out.certificate = view.certificate();
  out.ca = view.ca();
  out.conditions = kube::to_string(kube::conditions_of(cr));
  return out;
}

kube::request delete_cr(const std::string& namespace_,
                        const std::string& name) {
  return kube::request::remove(kube::resources::certificaterequests, namespace_,
                               name);
}

} // namespace istio_csr::actors::signing
