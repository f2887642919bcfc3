#include "flow.h"

#include <set>

namespace coordadmin {

using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;

Value OverlayConfig(const Value& base, const Value& overlay) {
  if (!base.is_map() || !overlay.is_map()) return overlay;
  Value out = Value::Map();
  for (size_t i = 0; i < base.map_size(); ++i) {
    const Value& k = base.key_at(i);
    if (!overlay.Find(k)) out.AppendEntry(k, base.value_at(i));
  }
  for (size_t i = 0; i < overlay.map_size(); ++i) {
    const Value& k = overlay.key_at(i);
    const Value& v = overlay.value_at(i);
    const Value* b = base.Find(k);
    if (!v.is_null() || (b && b->is_null())) {
      out.AppendEntry(k, b ? OverlayConfig(*b, v) : v);
    }
  }
  return out;
}

namespace {

Status Walk(const std::string& name, const Value& v, const Value& base,
            std::vector<FlowSpec>* out) {
  if (!v.is_map()) return Status::InvalidArgument("invalid work spec flow definition at " + name);
  if (v.FindKey("min_gb")) {
    FlowSpec s;
    s.name = name;
    s.definition = v;
    s.definition.Set(Value::Text("name"), Value::Text(name));
    const Value* own = v.FindKey("config");
    s.definition.Set(Value::Text("config"), own ? OverlayConfig(base, *own) : base);
    out->push_back(std::move(s));
    return Status::Ok();
  }
  for (size_t i = 0; i < v.map_size(); ++i) {
    const Value& k = v.key_at(i);
    if (!k.is_string()) return Status::InvalidArgument("flow names must be strings, under " + name);
    COORD_RETURN_IF_ERROR(Walk(name + "." + k.str(), v.value_at(i), base, out));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<FlowSpec>> ParseFlow(const Value& document, const Value& base_config) {
  const Value* flows = document.is_map() ? document.FindKey("flows") : nullptr;
  if (!flows || !flows->is_map()) {
    return Status::InvalidArgument("a flow file needs a top-level `flows:` map");
  }
  std::vector<FlowSpec> out;
  for (size_t i = 0; i < flows->map_size(); ++i) {
    const Value& k = flows->key_at(i);
    if (!k.is_string()) return Status::InvalidArgument("flow names must be strings");
    COORD_RETURN_IF_ERROR(Walk(k.str(), flows->value_at(i), base_config, &out));
  }
  std::set<std::string> seen;
  for (const FlowSpec& s : out) {
    if (!seen.insert(s.name).second) {
      return Status::InvalidArgument("work spec " + s.name + " is defined twice");
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ExternalThens(const std::vector<FlowSpec>& specs) {
  std::set<std::string> names;
  for (const FlowSpec& s : specs) names.insert(s.name);
  std::vector<std::pair<std::string, std::string>> out;
  for (const FlowSpec& s : specs) {
    const Value* then = s.definition.FindKey("then");
    if (!then || then->is_null()) continue;
    const std::string target = then->is_string() ? then->str() : then->ToDiagnostic();
    if (!names.count(target)) out.emplace_back(s.name, target);
  }
  return out;
}

}  // namespace coordadmin
