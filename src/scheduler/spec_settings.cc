#include "scheduler/spec_settings.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace coordinated::scheduler {

namespace {

// A number from an int, a float or a numeric string (as PY's float()/int() accepted).
std::optional<double> NumberOf(const Value* v) {
  if (!v || v->is_null()) return std::nullopt;
  if (auto n = v->AsNumber()) return n;
  if (v->is_bool()) return v->as_bool() ? 1.0 : 0.0;
  if (v->is_string()) {
    const std::string& s = v->str();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && *end == '\0' && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::optional<int64_t> IntOf(const Value* v) {
  auto d = NumberOf(v);
  if (!d || !std::isfinite(*d)) return std::nullopt;
  if (*d > 9.2e18) return INT64_MAX;
  if (*d < -9.2e18) return INT64_MIN;
  return static_cast<int64_t>(*d);
}

void Apply(const Value& m, SpecSettings* s, bool from_control) {
  if (!m.is_map()) return;
  if (const Value* v = from_control ? m.FindKey("status") : m.FindKey("disabled")) {
    if (from_control) {
      if (auto st = IntOf(v)) s->paused = (*st == 2);
    } else {
      s->paused = v->Truthy();
    }
  }
  if (const Value* v = m.FindKey("continuous")) {
    if (from_control) {
      s->continuous = v->Truthy() && s->can_be_continuous;
    } else {
      s->continuous = s->can_be_continuous = v->Truthy();
    }
  }
  if (const Value* v = m.FindKey("interval")) s->interval = NumberOf(v);
  if (const Value* v = m.FindKey("max_running")) s->max_running = IntOf(v);
  if (!from_control) {
    if (const Value* v = m.FindKey("max_getwork")) s->max_getwork = IntOf(v);
    if (const Value* v = m.FindKey("priority")) s->priority = IntOf(v).value_or(0);
    if (const Value* v = m.FindKey("then")) s->then = v->is_string() ? *v : Value::Null();
    if (const Value* v = m.FindKey("then_preempts")) s->then_preempts = v->Truthy();
    if (const Value* v = m.FindKey("max_retries")) s->max_retries = IntOf(v).value_or(0);
    const Value* w = m.FindKey("weight");
    if (w && !w->is_null()) {
      s->weight = IntOf(w).value_or(20);
    } else {
      const int64_t nice = IntOf(m.FindKey("nice")).value_or(0);
      s->weight = std::max<int64_t>(1, 20 - nice);
    }
  } else if (const Value* v = m.FindKey("weight")) {
    if (auto w = IntOf(v)) s->weight = *w;
  }
}

}  // namespace

SpecSettings DeriveSettings(const Value& definition, const Value& control) {
  SpecSettings s;
  Apply(definition, &s, false);
  Apply(control, &s, true);
  return s;
}

Status ValidateControl(const Value& options) {
  if (!options.is_map()) return Status::InvalidArgument("control options must be a map");
  for (size_t i = 0; i < options.map_size(); ++i) {
    const Value& k = options.key_at(i);
    const Value& v = options.value_at(i);
    if (!k.is_string()) return Status::InvalidArgument("control option names must be strings");
    const std::string& name = k.str();
    if (name == "status") {
      auto st = v.AsInt64();
      if (!st || (*st != 1 && *st != 2)) {
        return Status::InvalidArgument("status must be 1 (runnable) or 2 (paused)");
      }
    } else if (name == "weight" || name == "max_running") {
      if (!v.is_null() && !v.is_number()) {
        return Status::InvalidArgument(name + " must be a number");
      }
    } else if (name == "interval") {
      if (!v.is_null() && !NumberOf(&v))
        return Status::InvalidArgument("interval must be a number");
    } else if (name == "continuous") {
      // any value: truthiness
    }
    // Unknown keys are ignored, as the original daemon did.
  }
  return Status::Ok();
}

Value SettingsToMeta(const SpecSettings& s) {
  Value m = Value::Map();
  m.AppendEntry(Value::Bytes("status"), Value::UInt(s.paused ? 2 : 1));
  m.AppendEntry(Value::Bytes("continuous"), Value::Bool(s.continuous));
  m.AppendEntry(Value::Bytes("interval"), s.interval ? Value::Double(*s.interval) : Value::Null());
  m.AppendEntry(Value::Bytes("max_running"),
                s.max_running ? Value::Int(*s.max_running) : Value::Null());
  m.AppendEntry(Value::Bytes("weight"), Value::Int(s.weight));
  return m;
}

}  // namespace coordinated::scheduler
