// dump | restore: the whole store as JSON lines (docs/admin.md) and back.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "daemon/version.h"
#include "errors.h"
#include "progress.h"
#include "rpc.h"
#include "scheduler/dump.h"

namespace coordadmin {

namespace scheduler = coordinated::scheduler;
namespace fs = std::filesystem;

namespace {

struct DumpCliOptions {
  std::string out;
};

struct RestoreCliOptions {
  std::string in;
  bool force = false;
};

std::string CountsText(const scheduler::DumpCounts& c) {
  return std::to_string(c.specs) + " specs, " + std::to_string(c.units) + " units (" +
         std::to_string(c.attempts) + " attempts), " + std::to_string(c.workers) + " workers, " +
         std::to_string(c.locks) + " locks, " + std::to_string(c.deps) + " dependencies";
}

bool IsLoopback(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void WriteDump(const coordinated::storage::Store& store, const DumpCliOptions& o) {
  ProgressLine progress("dumped");
  scheduler::DumpOptions d;
  d.daemon_version = coordinated::kVersion;
  d.progress = [&](const scheduler::DumpProgress& p) { progress.Update(p); };
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!o.out.empty() && o.out != "-") {
    file.open(o.out, std::ios::binary | std::ios::trunc);
    if (!file) Fail(kExitFailed, "cannot write " + o.out);
    out = &file;
  }
  auto counts = scheduler::DumpStore(store, *out, d);
  out->flush();
  if (!counts.ok()) FailStatus(counts.status(), "dump");
  if (!*out) Fail(kExitFailed, "writing the dump failed");
  progress.End();
  if (progress.enabled()) std::cerr << "dumped " << CountsText(*counts) << "\n";
}

void Dump(Context& ctx, const DumpCliOptions& o) {
  if (ctx.offline()) return WriteDump(ctx.read_only_store(), o);
  // Through the daemon: a temporary checkpoint on this host, dumped, then removed.
  const std::string addr = ctx.address();
  if (!IsLoopback(addr)) {
    Usage(
        "dump through the daemon needs it on this host (a loopback --addr); elsewhere run "
        "`coordinate-admin backup DIR` there and dump with --data-dir DIR");
  }
  auto& client = ctx.client("dump");
  const char* tmpdir = getenv("TMPDIR");
  std::string pattern =
      std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/coordinate-admin-XXXXXX";
  if (!mkdtemp(pattern.data())) Fail(kExitFailed, "cannot create a temporary directory");
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{pattern};
  const std::string checkpoint = fs::absolute(pattern + "/checkpoint").string();
  ExpectOk(Call(client, "backup", Value::Array({Value::Text(checkpoint)})), "backup");
  coordinated::storage::StoreOptions so;
  so.path = checkpoint;
  so.read_only = true;
  so.create_if_missing = false;
  so.sync = false;
  auto store = coordinated::storage::Store::Open(so);
  if (!store.ok()) FailStatus(store.status(), "opening the checkpoint " + checkpoint);
  WriteDump(**store, o);
}

void Restore(Context& ctx, const RestoreCliOptions& o) {
  ctx.RequireOffline("restore");
  std::ifstream file;
  std::istream* in = &std::cin;
  uint64_t size = 0;
  if (!o.in.empty() && o.in != "-") {
    file.open(o.in, std::ios::binary);
    if (!file) Fail(kExitFailed, "cannot read " + o.in);
    std::error_code ec;
    size = fs::file_size(o.in, ec);
    in = &file;
  }
  std::error_code ec;
  fs::create_directories(ctx.options.data_dir, ec);
  auto store = ctx.writable_store(true);
  ProgressLine progress("restored", size);
  scheduler::RestoreOptions r;
  r.force = o.force;
  r.progress = [&](const scheduler::DumpProgress& p) { progress.Update(p); };
  auto counts = scheduler::RestoreStore(store.get(), *in, r);
  progress.End();
  if (!counts.ok()) FailStatus(counts.status(), "restore");
  std::cout << "restored " << CountsText(*counts) << " into " << ctx.options.data_dir << "\n";
}

}  // namespace

void AddDumpCommands(CLI::App& app, Context& ctx) {
  auto d = std::make_shared<DumpCliOptions>();
  CLI::App* dump = app.add_subcommand(
      "dump",
      "Write everything (specs, units with attempts, workers, locks, dependencies, the global "
      "mode) as JSON lines: a header, one line per record, a trailer with counts and a checksum. "
      "With --data-dir it reads the directory (read-only); through the daemon it dumps a "
      "temporary checkpoint (`backup`), so the daemon must run on this host");
  dump->add_option("--out", d->out, "write to FILE instead of standard output");
  dump->footer(
      Footer("Examples:\n  coordinate-admin dump --out coordinate.jsonl\n"
             "  coordinate-admin --data-dir /var/lib/coordinated dump | gzip > dump.jsonl.gz"));
  dump->callback([&ctx, d] { Dump(ctx, *d); });

  auto r = std::make_shared<RestoreCliOptions>();
  CLI::App* restore = app.add_subcommand(
      "restore",
      "Read a dump into a data directory (created when missing; the daemon must be stopped): "
      "records are written as dumped, indexes and counters rebuilt. A non-empty target is "
      "refused unless --force, which replaces its contents. Needs --data-dir");
  restore->add_option("--in", r->in, "read FILE instead of standard input");
  restore->add_flag("--force", r->force, "replace the contents of a non-empty data directory");
  restore->footer(
      Footer("Examples:\n"
             "  coordinate-admin --data-dir /var/lib/coordinated restore --in dump.jsonl\n"
             "  gunzip -c dump.jsonl.gz | coordinate-admin --data-dir new restore --force"));
  restore->callback([&ctx, r] { Restore(ctx, *r); });
}

}  // namespace coordadmin
