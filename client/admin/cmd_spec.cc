// spec ls | show | load | pause | resume | rm
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"
#include "rpc.h"
#include "yaml_value.h"

namespace coordadmin {

using coordinated::MapOf;
using coordinated::scheduler::ValueToJson;

namespace {

struct NameOptions {
  std::string name;
  bool escaped = false;
  bool yes = false;
};

struct LoadOptions {
  std::string file;
  bool bytes = false;
};

Json CountsJson(const SpecRow& s) {
  Json c = Json::object();
  uint64_t total = 0;
  for (int st : {1, 3, 2, 4, 5}) {
    c[StatusName(st)] = s.counts[st];
    total += s.counts[st];
  }
  c["total"] = total;
  return c;
}

Json MetaField(const SpecRow& s, const char* key) {
  const Value* v = s.meta.is_map() ? s.meta.FindKey(key) : nullptr;
  return v ? ValueToJson(*v) : Json(nullptr);
}

void Ls(Context& ctx) {
  std::vector<Json> rows;
  for (const SpecRow& s : Must(ctx.backend().Specs(), "listing work specs")) {
    Json r = Json::object();
    r["name"] = NameJson(s.name);
    r["paused"] = s.paused;
    const Value* p = s.definition.is_map() ? s.definition.FindKey("priority") : nullptr;
    r["priority"] = p ? ValueToJson(*p) : Json(0);
    r["weight"] = MetaField(s, "weight");
    r["continuous"] = MetaField(s, "continuous");
    const Value* then = s.definition.is_map() ? s.definition.FindKey("then") : nullptr;
    r["then"] = then ? NameJson(*then) : Json(nullptr);
    r["total"] = CountsJson(s)["total"];
    rows.push_back(std::move(r));
  }
  PrintList(std::cout, ctx.format(),
            {{"NAME", "name"},
             {"PAUSED", "paused"},
             {"PRIORITY", "priority", Column::kNumber},
             {"WEIGHT", "weight", Column::kNumber},
             {"CONTINUOUS", "continuous"},
             {"THEN", "then"},
             {"UNITS", "total", Column::kNumber}},
            rows, ctx.options.no_header);
}

void Show(Context& ctx, const NameOptions& o) {
  const Value name = NameArg(o.name, o.escaped);
  auto spec = Must(ctx.backend().Spec(name), "reading work spec");
  if (!spec) Fail(kExitFailed, "no such work spec " + TerminalSafe(name.str()));
  Json r = Json::object();
  r["name"] = NameJson(spec->name);
  r["paused"] = spec->paused;
  r["counts"] = CountsJson(*spec);
  Json meta = Json::object();  // the daemon's keys are byte strings; show them as names
  if (spec->meta.is_map()) {
    for (size_t i = 0; i < spec->meta.map_size(); ++i) {
      const Value& k = spec->meta.key_at(i);
      meta[k.is_string() ? k.str() : k.ToDiagnostic()] = ValueToJson(spec->meta.value_at(i));
    }
  }
  r["meta"] = std::move(meta);
  r["definition"] = ValueToJson(spec->definition);
  PrintRecord(std::cout, ctx.format(), r);
}

void Load(Context& ctx, const LoadOptions& o) {
  auto& client = ctx.client("spec load");
  auto doc = ParseYaml(ReadInput(o.file));
  if (!doc.ok()) Fail(kExitFailed, o.file + ": " + doc.status().message());
  std::vector<Value> specs;
  if (doc->is_sequence()) {
    specs = doc->items();
  } else {
    specs.push_back(*doc);
  }
  for (const Value& s : specs) {
    const Value* n = s.is_map() ? s.FindKey("name") : nullptr;
    if (!n || !n->is_string()) Fail(kExitFailed, o.file + ": a work spec is a map with a `name`");
  }
  for (const Value& s : specs) {
    const Value def = o.bytes ? TextToBytes(s) : s;
    const std::string name = def.FindKey("name")->str();
    Value reply = Call(client, "set_work_spec", Value::Array({def}));
    ExpectOk(reply, "set_work_spec " + name);
    std::cout << "loaded work spec " << TerminalSafe(name) << "\n";
  }
}

void Control(Context& ctx, const NameOptions& o, int status) {
  auto& client = ctx.client(status == 2 ? "spec pause" : "spec resume");
  const Value name = NameArg(o.name, o.escaped);
  Value reply =
      Call(client, "control_work_spec",
           Value::Array({name, MapOf({{"status", Value::UInt(static_cast<uint64_t>(status))}})}));
  ExpectOk(reply, "control_work_spec");
  std::cout << (status == 2 ? "paused " : "resumed ") << TerminalSafe(name.str()) << "\n";
}

void Rm(Context& ctx, const NameOptions& o) {
  ctx.RequireOnline("spec rm");
  if (!o.yes) Usage("spec rm deletes the spec and all of its units; add --yes to confirm");
  auto& client = ctx.client("spec rm");
  const Value name = NameArg(o.name, o.escaped);
  ExpectOk(Call(client, "del_work_spec", Value::Array({name})), "del_work_spec");
  std::cout << "deleted work spec " << TerminalSafe(name.str()) << "\n";
}

CLI::App* NameCommand(CLI::App* spec, const char* name, const char* help,
                      std::shared_ptr<NameOptions> o, const std::string& examples) {
  CLI::App* cmd = spec->add_subcommand(name, help);
  cmd->add_option("NAME", o->name, "work spec name")->required();
  cmd->add_flag("-e,--escaped", o->escaped, "NAME uses the table escapes (\\xNN, \\n, \\\\ ...)");
  cmd->footer(Footer(examples));
  return cmd;
}

}  // namespace

void AddSpecCommands(CLI::App& app, Context& ctx) {
  CLI::App* spec =
      app.add_subcommand("spec", "Work specs: list, show, load, pause, resume, delete");
  spec->require_subcommand(1);
  spec->footer(Footer("Examples:\n  coordinate-admin spec ls\n  coordinate-admin spec show crawl"));

  CLI::App* ls = spec->add_subcommand("ls", "List work specs with their settings and unit totals");
  ls->footer(Footer("Examples:\n  coordinate-admin spec ls\n  coordinate-admin spec ls -o json"));
  ls->callback([&ctx] { Ls(ctx); });

  auto show = std::make_shared<NameOptions>();
  NameCommand(
      spec, "show", "Show a work spec: definition, control settings, unit counts", show,
      "Examples:\n  coordinate-admin spec show crawl\n  coordinate-admin spec show crawl -o json")
      ->callback([&ctx, show] { Show(ctx, *show); });

  auto load = std::make_shared<LoadOptions>();
  CLI::App* l = spec->add_subcommand(
      "load",
      "Create or replace work specs from a YAML or JSON file (one map with a `name`, or a "
      "list of them); needs the daemon");
  l->add_option("FILE", load->file, "spec file ('-' for standard input)")->required();
  l->add_flag("--bytes", load->bytes,
              "send strings as byte strings, as Python 2 clients did (default: text strings)");
  l->footer(
      Footer("Examples:\n  coordinate-admin spec load crawl.yaml\n"
             "  echo '{name: crawl, min_gb: 1, weight: 5}' | coordinate-admin spec load -"));
  l->callback([&ctx, load] { Load(ctx, *load); });

  auto pause = std::make_shared<NameOptions>();
  NameCommand(spec, "pause", "Pause a work spec (no more units handed out); needs the daemon",
              pause, "Examples:\n  coordinate-admin spec pause crawl")
      ->callback([&ctx, pause] { Control(ctx, *pause, 2); });
  auto resume = std::make_shared<NameOptions>();
  NameCommand(spec, "resume", "Resume a paused work spec; needs the daemon", resume,
              "Examples:\n  coordinate-admin spec resume crawl")
      ->callback([&ctx, resume] { Control(ctx, *resume, 1); });

  auto rm = std::make_shared<NameOptions>();
  CLI::App* r = NameCommand(spec, "rm", "Delete a work spec and all of its units; needs the daemon",
                            rm, "Examples:\n  coordinate-admin spec rm old-crawl --yes");
  r->add_flag("--yes", rm->yes, "confirm the deletion");
  r->callback([&ctx, rm] { Rm(ctx, *rm); });
}

}  // namespace coordadmin
