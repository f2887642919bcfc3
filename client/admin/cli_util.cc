#include "cli_util.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "errors.h"

namespace coordadmin {

using coordinated::scheduler::ValueToJson;

std::string Footer(const std::string& examples) { return examples + "\n\n" + kExitCodesHelp; }

Value NameArg(const std::string& arg, bool escaped) {
  return Value::Bytes(escaped ? Unescape(arg) : arg);
}

namespace {
constexpr const char* kNames[] = {"?", "available", "blocked", "pending", "finished", "failed"};
}

int ParseStatus(const std::string& s) {
  for (int i = 1; i <= 5; ++i) {
    if (s == kNames[i] || s == std::to_string(i)) return i;
  }
  std::string upper;
  for (char c : s) upper.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (int i = 1; i <= 5; ++i) {
    if (upper == kNames[i]) return i;
  }
  Usage("unknown unit status '" + s + "' (available, blocked, pending, finished, failed or 1..5)");
}

const char* StatusName(int status) {
  return status >= 1 && status <= 5 ? kNames[status] : kNames[0];
}

Value TextToBytes(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kText:
      return Value::Bytes(v.str());
    case Value::Kind::kArray:
    case Value::Kind::kTuple: {
      std::vector<Value> items;
      for (const Value& e : v.items()) items.push_back(TextToBytes(e));
      return v.is_tuple() ? Value::Tuple(std::move(items)) : Value::Array(std::move(items));
    }
    case Value::Kind::kMap: {
      Value m = Value::Map();
      for (size_t i = 0; i < v.map_size(); ++i) {
        m.AppendEntry(TextToBytes(v.key_at(i)), TextToBytes(v.value_at(i)));
      }
      return m;
    }
    case Value::Kind::kTag:
      return Value::Tag(v.tag(), TextToBytes(v.tagged()));
    default:
      return v;
  }
}

std::string ReadInput(const std::string& path) {
  if (path == "-" || path.empty()) {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(kExitFailed, "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Json WorkerJson(const WorkerRow& w, bool details) {
  Json j = Json::object();
  j["id"] = NameJson(w.id);
  j["mode"] = NameJson(w.mode);
  j["alive"] = w.alive;
  if (w.parent.is_string() || w.last_heard) j["parent"] = NameJson(w.parent);
  if (w.last_heard) j["last_heard"] = *w.last_heard;
  if (w.expires) j["expires"] = *w.expires;
  if (w.unit_count) j["units"] = *w.unit_count;
  if (details) {
    j["data"] = ValueToJson(w.data);
    Json units = Json::array();
    for (const auto& [s, k] : w.units) {
      Json u = Json::object();
      u["spec"] = NameJson(s);
      u["key"] = NameJson(k);
      units.push_back(std::move(u));
    }
    if (!w.units.empty()) j["current_units"] = std::move(units);
    Json children = Json::array();
    for (const Value& c : w.children) children.push_back(NameJson(c));
    if (!w.children.empty()) j["children"] = std::move(children);
  }
  return j;
}

Json UnitJson(const Value& spec, const UnitRow& u, bool details) {
  Json j = Json::object();
  j["spec"] = NameJson(spec);
  j["key"] = NameJson(u.key);
  j["status"] = StatusName(u.status);
  if (u.priority) j["priority"] = *u.priority;
  j["worker"] = NameJson(u.worker_id);
  j["expiration"] = OptTime(u.expiration);
  if (!details) return j;
  if (u.not_before && *u.not_before > 0) j["not_before"] = *u.not_before;
  if (u.attempts) j["attempts"] = *u.attempts;
  if (u.expiries) j["expiries"] = *u.expiries;
  if (u.blockers) j["blockers"] = *u.blockers;
  j["traceback"] = NameJson(u.traceback);
  if (!u.depends_on.empty()) {
    Json deps = Json::array();
    for (const auto& [s, k] : u.depends_on) {
      Json d = Json::object();
      d["spec"] = NameJson(s);
      d["key"] = NameJson(k);
      deps.push_back(std::move(d));
    }
    j["depends_on"] = std::move(deps);
  }
  j["data"] = ValueToJson(u.data);
  return j;
}

}  // namespace coordadmin
