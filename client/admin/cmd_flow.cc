// flow load: the work specs of a flow file (PY's `coordinate flow`), all checked before any is set.
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "errors.h"
#include "flow.h"
#include "rpc.h"
#include "yaml_value.h"

namespace coordadmin {

namespace {

struct FlowOptions {
  std::string file;
  std::string config;
  bool bytes = false;
  bool dry_run = false;
};

void Load(Context& ctx, const FlowOptions& o) {
  auto& client = ctx.client("flow load");
  auto doc = ParseYaml(ReadInput(o.file));
  if (!doc.ok()) Fail(kExitFailed, o.file + ": " + doc.status().message());
  Value base = Value::Map();
  if (!o.config.empty()) {
    auto c = ParseYaml(ReadInput(o.config));
    if (!c.ok()) Fail(kExitFailed, o.config + ": " + c.status().message());
    if (!c->is_map() && !c->is_null())
      Fail(kExitFailed, o.config + ": the configuration must be a map");
    if (c->is_map()) base = *c;
  }
  auto specs = ParseFlow(*doc, base);
  if (!specs.ok()) Fail(kExitFailed, o.file + ": " + specs.status().message());
  // Chaining must be correct before anything is set: a `then` names a spec of this flow or one
  // the daemon already has.
  std::vector<std::string> missing;
  for (const auto& [spec, then] : ExternalThens(*specs)) {
    Value def = Call(client, "get_work_spec", Value::Array({Value::Bytes(then)}));
    if (def.is_null()) {
      missing.push_back("work spec " + spec + " chained to invalid work spec " + then);
    }
  }
  if (!missing.empty()) {
    std::string msg = o.file + ": nothing loaded:";
    for (const auto& m : missing) msg += "\n  " + m;
    Fail(kExitFailed, msg);
  }
  for (const FlowSpec& s : *specs) {
    const Value def = o.bytes ? TextToBytes(s.definition) : s.definition;
    if (!o.dry_run) {
      ExpectOk(Call(client, "set_work_spec", Value::Array({def})), "set_work_spec " + s.name);
    }
    std::cout << (o.dry_run ? "would load work spec " : "loaded work spec ") << TerminalSafe(s.name)
              << "\n";
  }
}

}  // namespace

void AddFlowCommands(CLI::App& app, Context& ctx) {
  CLI::App* flow = app.add_subcommand("flow", "Work flows: sets of chained work specs");
  flow->require_subcommand(1);
  auto o = std::make_shared<FlowOptions>();
  CLI::App* load = flow->add_subcommand(
      "load",
      "Load a flow YAML file: a top-level `flows:` map; a map with `min_gb` is a work spec, other "
      "maps group specs under dotted names (group.spec). Every `then` must name a spec of the "
      "flow or of the daemon, else nothing is set. Each spec gets `name` and `config` (--config "
      "overlaid with the spec's own config). Needs the daemon");
  load->add_option("FILE", o->file, "flow file ('-' for standard input)")->required();
  load->add_option("--config", o->config, "YAML configuration saved with each spec (default {})");
  load->add_flag("--bytes", o->bytes, "send strings as byte strings, as Python 2 clients did");
  load->add_flag("--dry-run", o->dry_run, "check the flow and print what would be loaded");
  load->footer(
      Footer("Examples:\n  coordinate-admin flow load pipeline.yaml\n"
             "  coordinate-admin flow load pipeline.yaml --config config.yaml --dry-run\n\n"
             "A flow file:\n"
             "  flows:\n"
             "    ingest:\n"
             "      fetch: {min_gb: 1, module: m, run_function: fetch, then: ingest.parse}\n"
             "      parse: {min_gb: 2, module: m, run_function: parse}"));
  load->callback([&ctx, o] { Load(ctx, *o); });
  flow->footer(Footer("Examples:\n  coordinate-admin flow load pipeline.yaml"));
}

}  // namespace coordadmin
