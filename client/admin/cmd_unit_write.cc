// unit add | retry | prioritize | rm (through the daemon)
#include <iostream>
#include <memory>
#include <sstream>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"
#include "rpc.h"

namespace coordadmin {

using coordinated::MapOf;
using coordinated::scheduler::ValueFromJson;

namespace {

struct AddOptions {
  std::string spec;
  std::string file = "-";
  bool bytes = false;
  std::optional<double> priority;
  std::optional<double> delay;
  bool escaped = false;
};

struct KeysOptions {
  std::string spec;
  std::vector<std::string> keys;
  bool escaped = false;
  bool failed = false;             // retry
  std::optional<double> priority;  // prioritize
  std::optional<double> adjust;    // prioritize
  std::string status;              // rm
  bool all = false;                // rm
  bool yes = false;                // rm
};

Value KeyList(const KeysOptions& o) {
  Value keys = Value::Array();
  for (const auto& k : o.keys) keys.Append(NameArg(k, o.escaped));
  return keys;
}

void Add(Context& ctx, const AddOptions& o) {
  auto& client = ctx.client("unit add");
  const Value spec = NameArg(o.spec, o.escaped);
  // Parse everything first: a malformed line adds nothing.
  std::vector<Value> items;
  std::istringstream in(ReadInput(o.file));
  std::string line;
  size_t lineno = 0;
  Value meta = Value::Null();
  if (o.priority || o.delay) {
    meta = Value::Map();
    if (o.priority) meta.Set(Value::Bytes("priority"), Value::Double(*o.priority));
    if (o.delay) meta.Set(Value::Bytes("delay"), Value::Double(*o.delay));
  }
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      Fail(kExitFailed, "line " + std::to_string(lineno) + ": expected a JSON object {key: data}");
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      auto data = ValueFromJson(it.value());
      if (!data.ok())
        Fail(kExitFailed, "line " + std::to_string(lineno) + ": " + data.status().message());
      Value key = o.bytes ? Value::Bytes(it.key()) : Value::Text(it.key());
      Value d = o.bytes ? TextToBytes(*data) : *data;
      std::vector<Value> item = {std::move(key), std::move(d)};
      if (!meta.is_null()) item.push_back(meta);
      items.push_back(Value::Tuple(std::move(item)));
    }
  }
  size_t added = 0;
  for (size_t i = 0; i < items.size(); i += 1000) {
    const size_t end = std::min(items.size(), i + 1000);
    Value batch = Value::Array(std::vector<Value>(items.begin() + i, items.begin() + end));
    ExpectOk(Call(client, "add_work_units", Value::Array({spec, batch})), "add_work_units");
    added = end;
  }
  std::cout << "added " << added << " units to " << TerminalSafe(spec.str()) << "\n";
}

void Retry(Context& ctx, const KeysOptions& o) {
  if (o.keys.empty() && !o.failed) Usage("unit retry needs KEYs or --failed");
  auto& client = ctx.client("unit retry");
  const Value spec = NameArg(o.spec, o.escaped);
  const Value available = MapOf({{"status", Value::UInt(1)}});
  size_t retried = 0;
  std::vector<std::string> errors;
  auto retry = [&](const Value& key) {
    Reply r = Split(Call(client, "update_work_unit", Value::Array({spec, key, available})));
    if (r.value.Truthy()) {
      ++retried;
    } else {
      errors.push_back(TerminalSafe(key.str()) + ": " + MessageText(r.message));
    }
  };
  const Value keys = KeyList(o);
  for (const Value& k : keys.items()) retry(k);
  if (o.failed) {
    // Retried units leave FAILED, so each page holds new ones; stop when a page makes no progress.
    for (;;) {
      Value reply = Call(
          client, "get_work_units",
          Value::Array({spec, MapOf({{"state", Value::UInt(5)}, {"limit", Value::UInt(1000)}})}));
      Reply r = Split(reply);
      if (!r.value.is_sequence()) Fail(kExitFailed, "get_work_units: " + MessageText(r.message));
      if (r.value.items().empty()) break;
      const size_t before = retried;
      for (const Value& p : r.value.items()) {
        if (p.is_sequence() && !p.items().empty()) retry(p.items()[0]);
      }
      if (retried == before) break;
    }
  }
  std::cout << "retried " << retried << " units\n";
  if (!errors.empty()) {
    std::string msg = "some units were not retried:";
    for (const auto& e : errors) msg += "\n  " + e;
    Fail(kExitFailed, msg);
  }
}

void Prioritize(Context& ctx, const KeysOptions& o) {
  if (o.priority.has_value() == o.adjust.has_value()) {
    Usage("unit prioritize needs exactly one of --priority and --adjust");
  }
  auto& client = ctx.client("unit prioritize");
  Value opts = MapOf({{"work_unit_keys", KeyList(o)}});
  if (o.priority) opts.Set(Value::Bytes("priority"), Value::Double(*o.priority));
  if (o.adjust) opts.Set(Value::Bytes("adjustment"), Value::Double(*o.adjust));
  ExpectOk(Call(client, "prioritize_work_units", Value::Array({NameArg(o.spec, o.escaped), opts})),
           "prioritize_work_units");
  std::cout << "prioritized " << o.keys.size() << " units\n";
}

void Rm(Context& ctx, const KeysOptions& o) {
  ctx.RequireOnline("unit rm");
  Value opts = Value::Map();
  if (!o.keys.empty() && o.all) Usage("unit rm: give KEYs or --all, not both");
  if (o.keys.empty() && !o.all && o.status.empty()) {
    Usage("unit rm needs KEYs, --status S or --all");
  }
  if (o.keys.empty() && !o.yes) {
    Usage("unit rm --all/--status deletes many units; add --yes to confirm");
  }
  if (!o.keys.empty()) opts.Set(Value::Bytes("work_unit_keys"), KeyList(o));
  auto& client = ctx.client("unit rm");
  if (o.all) opts.Set(Value::Bytes("all"), Value::Bool(true));
  if (!o.status.empty()) {
    opts.Set(Value::Bytes("state"), Value::UInt(static_cast<uint64_t>(ParseStatus(o.status))));
  }
  Reply r = Split(Call(client, "del_work_units", Value::Array({NameArg(o.spec, o.escaped), opts})));
  if (!r.message.is_null()) Fail(kExitFailed, "del_work_units: " + MessageText(r.message));
  std::cout << "deleted " << r.value.AsInt64().value_or(0) << " units\n";
}

CLI::App* KeysCommand(CLI::App& unit, const char* name, const char* help,
                      std::shared_ptr<KeysOptions> o, bool keys_required) {
  CLI::App* cmd = unit.add_subcommand(name, help);
  cmd->add_option("SPEC", o->spec, "work spec name")->required();
  auto* k = cmd->add_option("KEY", o->keys, "unit keys");
  if (keys_required) k->required();
  cmd->add_flag("-e,--escaped", o->escaped, "SPEC and KEYs use the table escapes (\\xNN ...)");
  return cmd;
}

}  // namespace

void AddUnitWriteCommands(CLI::App& unit, Context& ctx) {
  auto add = std::make_shared<AddOptions>();
  CLI::App* a = unit.add_subcommand(
      "add",
      "Add (or reset) units from JSON lines, each an object {key: data, ...}; data uses "
      "the dump value encoding ({\"$bytes\": ...}, {\"$tuple\": [...]} ...). Needs the daemon");
  a->add_option("SPEC", add->spec, "work spec name")->required();
  a->add_option("--file", add->file, "input file (default '-': standard input)");
  a->add_flag("--bytes", add->bytes,
              "send keys and text strings in data as byte strings, as Python 2 clients did");
  a->add_option("--priority", add->priority, "priority of the new units");
  a->add_option("--delay", add->delay, "seconds before the units may be handed out");
  a->add_flag("-e,--escaped", add->escaped, "SPEC uses the table escapes");
  a->footer(
      Footer("Examples:\n"
             "  echo '{\"u1\": {\"url\": \"http://a/\"}}' | coordinate-admin unit add crawl\n"
             "  coordinate-admin unit add crawl --file units.jsonl --bytes --priority 10"));
  a->callback([&ctx, add] { Add(ctx, *add); });

  auto retry = std::make_shared<KeysOptions>();
  CLI::App* r = KeysCommand(unit, "retry",
                            "Make units AVAILABLE again (failed, finished or "
                            "pending ones); needs the daemon",
                            retry, false);
  r->add_flag("--failed", retry->failed, "retry every FAILED unit of the spec");
  r->footer(
      Footer("Examples:\n  coordinate-admin unit retry crawl u1 u2\n"
             "  coordinate-admin unit retry crawl --failed"));
  r->callback([&ctx, retry] { Retry(ctx, *retry); });

  auto prio = std::make_shared<KeysOptions>();
  CLI::App* p = KeysCommand(unit, "prioritize", "Set or adjust unit priorities; needs the daemon",
                            prio, true);
  p->add_option("--priority", prio->priority, "set this priority");
  p->add_option("--adjust", prio->adjust, "add this to the current priority");
  p->footer(
      Footer("Examples:\n  coordinate-admin unit prioritize crawl u1 --priority 100\n"
             "  coordinate-admin unit prioritize crawl u1 u2 --adjust -5"));
  p->callback([&ctx, prio] { Prioritize(ctx, *prio); });

  auto rm = std::make_shared<KeysOptions>();
  CLI::App* d = KeysCommand(unit, "rm", "Delete units; needs the daemon", rm, false);
  d->add_option("--status", rm->status, "delete every unit with this status (needs --yes)");
  d->add_flag("--all", rm->all, "delete every unit of the spec (needs --yes)");
  d->add_flag("--yes", rm->yes, "confirm a bulk deletion");
  d->footer(
      Footer("Examples:\n  coordinate-admin unit rm crawl u1 u2\n"
             "  coordinate-admin unit rm crawl --status finished --yes"));
  d->callback([&ctx, rm] { Rm(ctx, *rm); });
}

}  // namespace coordadmin
