#include "backlog.h"

#include <algorithm>
#include <random>
#include <thread>

namespace coordinate::bench {

using coordinated::Status;
using coordinated::Value;

namespace {
constexpr uint64_t kFillBatch = 1000;
constexpr size_t kPoolBytes = 4 << 20;
constexpr uint64_t kWindowStride = 7919;  // a prime: windows of nearby keys are far apart
}  // namespace

Backlog::Backlog(const RunConfig& config, std::string address)
    : address_(std::move(address)), payload_(config.payload) {
  for (int i = 0; i < std::max(1, config.specs); ++i) names_.push_back(SpecName(config, i));
  next_key_.assign(names_.size(), config.first_key);
  std::mt19937_64 rng(0x636f6f7264);  // fixed: every run sends the same bytes
  pool_.resize(kPoolBytes + payload_);
  for (char& ch : pool_) ch = static_cast<char>(rng() & 0xff);
  unit_raw_bytes_ =
      UnitKey(config.first_key).size() + coordinated::EncodeCbor(Data(config.first_key)).size();
}

Value Backlog::Data(uint64_t i) const {
  const size_t offset = static_cast<size_t>((i * kWindowStride) % kPoolBytes);
  // Built by moves: an initializer list would copy the payload once more.
  Value data = Value::Map();
  data.AppendEntry(B("p"), B(std::string_view(pool_).substr(offset, payload_)));
  return data;
}

ClientOptions Backlog::client_options() const {
  ClientOptions o;
  o.address = address_;
  o.retries = 0;
  o.timeout_seconds = 120;
  return o;
}

Status Backlog::CreateSpecs() {
  Client c(client_options());
  for (const auto& name : names_) {
    COORD_RETURN_IF_ERROR(c.SetWorkSpec(M({{"name", B(name)}})));
  }
  return Status::Ok();
}

uint64_t Backlog::ReserveKeys(int spec, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t& next = next_key_[static_cast<size_t>(spec)];
  const uint64_t first = next;
  next += n;
  return first;
}

Value Backlog::Items(uint64_t first, uint64_t n) const {
  Value items = A();
  items.mutable_items().reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::vector<Value> item;
    item.reserve(2);
    item.push_back(B(UnitKey(first + i)));
    item.push_back(Data(first + i));
    items.Append(Value::Tuple(std::move(item)));
  }
  return items;
}

Status Backlog::Fill(uint64_t units, int connections) {
  // Chunks of up to kFillBatch units of one spec; connections take chunks in turn.
  struct Chunk {
    int spec;
    uint64_t n;
  };
  std::vector<Chunk> chunks;
  const uint64_t per_spec = units / names_.size();
  uint64_t extra = units % names_.size();
  for (size_t s = 0; s < names_.size(); ++s) {
    uint64_t left = per_spec + (extra > 0 ? 1 : 0);
    if (extra > 0) --extra;
    while (left > 0) {
      const uint64_t n = std::min(left, kFillBatch);
      chunks.push_back({static_cast<int>(s), n});
      left -= n;
    }
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto fill = [&] {
    Client c(client_options());
    for (size_t i; (i = next++) < chunks.size();) {
      const Chunk& chunk = chunks[i];
      const uint64_t first = ReserveKeys(chunk.spec, chunk.n);
      Status s = c.AddWorkUnits(B(spec_name(chunk.spec)), Items(first, chunk.n));
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        next = chunks.size();
        return;
      }
      CountAdded(chunk.n);
    }
  };
  std::vector<std::thread> threads;
  const size_t n = std::clamp<size_t>(static_cast<size_t>(connections), 1, chunks.size() + 1);
  for (size_t t = 0; t < n; ++t) threads.emplace_back(fill);
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace coordinate::bench
