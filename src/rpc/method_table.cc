#include "rpc/method_table.h"

#include <fmt/format.h>

namespace coordinated::rpc {

const MethodSpec* FindMethod(std::string_view name, bool test_hooks) {
  for (const auto& m : MethodTable()) {
    if (m.name == name) return (m.test_only && !test_hooks) ? nullptr : &m;
  }
  return nullptr;
}

StatusOr<Args> BindArgs(const MethodSpec& spec, Value params) {
  Args args(spec.params.size(), Value::Undefined());
  if (params.is_sequence()) {
    auto& items = params.mutable_items();
    if (items.size() < spec.required || items.size() > spec.params.size()) {
      std::string expected = spec.required == spec.params.size()
                                 ? std::to_string(spec.required)
                                 : fmt::format("{} to {}", spec.required, spec.params.size());
      return Status::InvalidArgument(
          fmt::format("{}() takes {} arguments ({} given)", spec.name, expected, items.size()));
    }
    for (size_t i = 0; i < items.size(); ++i) args[i] = std::move(items[i]);
    return args;
  }
  // Keyword arguments.
  std::vector<bool> given(spec.params.size(), false);
  for (size_t i = 0; i < params.map_size(); ++i) {
    const Value& k = params.key_at(i);
    size_t idx = spec.params.size();
    if (k.is_string()) {
      for (size_t j = 0; j < spec.params.size(); ++j) {
        if (spec.params[j] == k.str()) idx = j;
      }
    }
    if (idx == spec.params.size()) {
      return Status::InvalidArgument(
          fmt::format("{}() got an unexpected keyword argument {}", spec.name,
                      k.is_string() ? "'" + k.str() + "'" : k.ToDiagnostic()));
    }
    args[idx] = std::move(params.mutable_value_at(i));
    given[idx] = true;
  }
  for (size_t j = 0; j < spec.required; ++j) {
    if (!given[j]) {
      return Status::InvalidArgument(
          fmt::format("{}() missing required argument '{}'", spec.name, spec.params[j]));
    }
  }
  return args;
}

}  // namespace coordinated::rpc
