// libFuzzer target for the method dispatcher (src/rpc/dispatcher.h) against a real Coordinator
// over a RocksDB store.
//
// The input is one CBOR message as a connection delivers it (tag 24 over a byte string is
// unwrapped, as the server does): a request map or a batch array. It is handed to a Dispatcher
// without a sequencer, so every handler runs inline and the reply is ready when Handle returns.
// The store lives in a temp directory created once per process, unsynced, and is wiped every
// kResetEvery inputs so it stays small; state carries over between the inputs in between, so
// a sequence of requests is exercised too. Test hooks are off. A FakeClock moves one second per
// input and the coordinator's periodic work (Tick) runs after each one.
//
// Properties: `done` runs exactly once; the reply is a map (an array for a batch) that survives
// CBOR re-encoding; the coordinator's invariants (CheckConsistency) hold after every input.
// Messages naming `backup` anywhere are skipped: backup writes a checkpoint to a path the
// request chooses.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/cbor.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/value.h"
#include "fuzz_util.h"
#include "rpc/dispatcher.h"
#include "rpc/envelope.h"
#include "rpc/method_table.h"
#include "scheduler/coordinator.h"
#include "storage/store.h"

namespace {

using coordfuzz::FuzzDie;
using coordinated::DecodeCbor;
using coordinated::DecodeLimits;
using coordinated::EncodeCbor;
using coordinated::FakeClock;
using coordinated::SystemClock;
using coordinated::Value;
namespace rpc = coordinated::rpc;
namespace scheduler = coordinated::scheduler;
namespace storage = coordinated::storage;

constexpr const char* kTarget = "dispatcher_fuzz";
constexpr int kResetEvery = 256;

DecodeLimits FuzzLimits() {
  DecodeLimits limits;
  limits.max_bytes = 64 << 10;
  limits.max_depth = 16;
  limits.max_items = 4096;
  return limits;
}

// True if any string anywhere in `v` (keys included) is "backup".
bool MentionsBackup(const Value& v) {
  if (v.is_string()) return v.str() == "backup";
  if (v.is_tag()) return MentionsBackup(v.tagged());
  if (v.is_sequence() || v.is_map()) {
    for (const Value& item : v.items()) {
      if (MentionsBackup(item)) return true;
    }
  }
  return false;
}

// The temp directory, store, coordinator and dispatcher shared by every input of the process.
class World {
 public:
  World() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/coord-disp-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) FuzzDie(kTarget, "mkdtemp failed");
    dir_ = pattern;
    client_config_ =
        coordinated::MapOf({{"coordinate", coordinated::MapOf({{"server", Value::Map()}})}});
    Open();
  }
  ~World() {
    Close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void Handle(Value msg) {
    if (++inputs_ % kResetEvery == 0) {
      Close();
      Open();
    }
    const bool batch = msg.is_sequence();
    int calls = 0;
    Value reply;
    rpc::ConnectionState conn;
    dispatcher_->Handle(std::move(msg), &conn, [&](Value r) {
      ++calls;
      reply = std::move(r);
    });
    if (calls != 1) FuzzDie(kTarget, "done did not run exactly once");
    if (batch ? !reply.is_sequence() : !reply.is_map()) FuzzDie(kTarget, "odd reply", &reply);
    const std::string enc = EncodeCbor(reply);
    auto back = DecodeCbor(enc);
    if (!back.ok() || *back != reply) FuzzDie(kTarget, "reply does not re-encode", &reply);

    clock_.Advance(1);
    (void)coordinator_->Tick();
    const std::vector<std::string> problems = coordinator_->CheckConsistency();
    if (!problems.empty()) {
      for (const auto& p : problems) std::fprintf(stderr, "invariant: %s\n", p.c_str());
      FuzzDie(kTarget, "coordinator invariants broken");
    }
  }

 private:
  void Open() {
    const std::string path = dir_ + "/db";
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    storage::StoreOptions so;
    so.path = path;
    so.sync = false;
    so.block_cache_bytes = 4 << 20;
    so.memtable_bytes = 8 << 20;
    auto store = storage::Store::Open(so);
    if (!store.ok()) FuzzDie(kTarget, "cannot open the store");
    store_ = std::move(store).value();
    clock_.Set(1'000'000.0);
    coordinator_ = std::make_unique<scheduler::Coordinator>(store_.get(), &clock_,
                                                            scheduler::CoordinatorOptions{});
    if (!coordinator_->Load().ok()) FuzzDie(kTarget, "cannot load the coordinator");
    rpc::CallContext ctx;
    ctx.coordinator = coordinator_.get();
    ctx.client_config = &client_config_;
    ctx.clock = &system_clock_;
    ctx.test_hooks = false;
    dispatcher_ = std::make_unique<rpc::Dispatcher>(ctx, nullptr);
  }
  void Close() {
    dispatcher_.reset();
    coordinator_.reset();
    store_.reset();
  }

  std::string dir_;
  Value client_config_;
  FakeClock clock_;
  SystemClock system_clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<scheduler::Coordinator> coordinator_;
  std::unique_ptr<rpc::Dispatcher> dispatcher_;
  uint64_t inputs_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  auto decoded = DecodeCbor(coordfuzz::AsView(data, size), FuzzLimits());
  if (!decoded.ok()) return 0;
  Value msg = std::move(decoded).value();
  if (msg.is_tag() && msg.tag() == Value::kTagEncodedCbor) {
    if (!msg.tagged().is_bytes()) return 0;
    auto inner = coordinated::rpc::DecodeMessage(msg.tagged().str(), FuzzLimits());
    if (!inner.ok()) return 0;
    msg = std::move(inner).value();
  }
  if (msg.is_null() || MentionsBackup(msg)) return 0;
  world.Handle(std::move(msg));
  return 0;
}
