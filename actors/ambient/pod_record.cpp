#include "actors/ambient/pod_record.hpp"

#include <array>
#include <string>

namespace istio_csr::actors::ambient {

namespace {

constexpr char separator = '\x1f';

std::string_view string_member(const nlohmann::json& obj,
                               std::string_view key) {
  if (!obj.is_object())
    return {};
  auto i = obj.find(key);
  if (i == obj.end() || !i->is_string())
    return {};
  return i->get_ref<const std::string&>();
}

const nlohmann::json& object_member(const nlohmann::json& obj,
                                    std::string_view key) {
  static const nlohmann::json none;
  if (!obj.is_object())
    return none;
  auto i = obj.find(key);
  return i == obj.end() ? none : *i;
}

/// Drops separators from a field (none occur in valid objects; a record
/// must never be misread because of a hostile value).
void append_field(std::string& out, std::string_view field) {
  for (char c : field)
    if (c != separator)
      out += c;
}

} // namespace

nlohmann::json pod_record(const pod_fields& f) {
  std::string out;
  out.reserve(f.namespace_.size() + f.name.size() + f.uid.size()
              + f.service_account.size() + f.node.size() + f.phase.size() + 5);
  append_field(out, f.namespace_);
  out += separator;
  append_field(out, f.name);
  out += separator;
  append_field(out, f.uid);
  out += separator;
  append_field(out, f.service_account);
  out += separator;
  append_field(out, f.node);
  out += separator;
  append_field(out, f.phase);
  out.shrink_to_fit();
  return nlohmann::json(std::move(out));
}

nlohmann::json make_pod_record(nlohmann::json pod) {
  const auto& meta = object_member(pod, "metadata");
  const auto& spec = object_member(pod, "spec");
  const auto& status = object_member(pod, "status");
  return pod_record(pod_fields{
    string_member(meta, "namespace"), string_member(meta, "name"),
    string_member(meta, "uid"), string_member(spec, "serviceAccountName"),
    string_member(spec, "nodeName"), string_member(status, "phase")});
}

std::optional<pod_fields> read_pod_record(const nlohmann::json& record) {
  if (!record.is_string())
    return std::nullopt;
  std::string_view text = record.get_ref<const std::string&>();
  std::array<std::string_view, 6> parts;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto end = text.find(separator);
    if ((end == std::string_view::npos) != (i + 1 == parts.size()))
      return std::nullopt;
    parts[i] = text.substr(0, end);
    if (end != std::string_view::npos)
      text.remove_prefix(end + 1);
  }
  return pod_fields{parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]};
}

} // namespace istio_csr::actors::ambient
