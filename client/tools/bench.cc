// coordinate-bench: load generator for coordinated.
//
//   coordinate-bench add --spec S --count N --batch B
//       loads N units (keys u0000000001...) in add_work_units batches of B; prints units/s.
//   coordinate-bench do --spec S --workers W --batch K --duration SECS [--preload N]
//       W connections, each looping get_work(max_jobs K) then finishing the units it got as one
//       batch request; prints cycles/s, units/s and p50/p99/p999 of get_work and of the finish.
//
// The daemon address comes from --addr, else $COORDINATE_ADDR, else 127.0.0.1:5932.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "coordinate/client.h"

namespace {

using coordinate::A;
using coordinate::B;
using coordinate::Client;
using coordinate::ClientOptions;
using coordinate::I;
using coordinate::M;
using coordinate::Value;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "u%010llu", static_cast<unsigned long long>(i));
  return buf;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(idx), v.end());
  return v[idx];
}

int Fail(const coordinated::Status& s) {
  std::fprintf(stderr, "coordinate-bench: %s\n", s.ToString().c_str());
  return 3;
}

int Add(const ClientOptions& opts, const std::string& spec, uint64_t count, uint64_t batch,
        uint64_t first, size_t payload) {
  Client c(opts);
  if (auto s = c.SetWorkSpec(M({{"name", B(spec)}})); !s.ok()) return Fail(s);
  const std::string pad(payload, 'x');
  auto start = Clock::now();
  for (uint64_t done = 0; done < count;) {
    const uint64_t n = std::min(batch, count - done);
    Value items = A();
    items.mutable_items().reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      items.Append(coordinate::Tup({B(Key(first + done + i)), M({{"p", B(pad)}})}));
    }
    if (auto s = c.AddWorkUnits(B(spec), items); !s.ok()) return Fail(s);
    done += n;
  }
  const double secs = Since(start);
  std::printf("add: %llu units in %.2f s = %.0f units/s (batch %llu)\n",
              static_cast<unsigned long long>(count), secs, static_cast<double>(count) / secs,
              static_cast<unsigned long long>(batch));
  return 0;
}

int Do(const ClientOptions& opts, const std::string& spec, int workers, int batch,
       double duration) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> cycles{0}, units{0}, errors{0};
  std::mutex mu;
  std::vector<double> get_lat, fin_lat;
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Client c(opts);
      std::vector<double> gl, fl;
      const Value worker = B("bench-" + std::to_string(w));
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Clock::now();
        auto reply = c.Call("get_work", A({worker, M({{"max_jobs", I(batch)},
                                                       {"lease_time", I(300)},
                                                       {"work_spec_names", A({B(spec)})}})}));
        gl.push_back(Since(t0));
        if (!reply.ok() || !reply->is_sequence() || reply->items().empty()) {
          ++errors;
          continue;
        }
        std::vector<std::vector<Value>> grants;
        const Value& body = reply->items()[0];
        if (batch == 1) {
          if (body.items().size() == 3 && !body.items()[0].is_null()) grants.push_back(body.items());
        } else {
          for (const auto& t : body.items()) grants.push_back(t.items());
        }
        auto* got = &grants;
        if (got->empty()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        std::vector<std::pair<std::string, Value>> finishes;
        for (auto& t : *got) {
          finishes.emplace_back("update_work_unit",
                                A({t[0], t[1], M({{"status", I(4)}})}));
        }
        auto t1 = Clock::now();
        auto replies = finishes.size() == 1
                           ? std::vector<coordinated::StatusOr<Value>>{c.Call(
                                 finishes[0].first, finishes[0].second)}
                           : c.Batch(finishes);
        fl.push_back(Since(t1));
        for (auto& r : replies) {
          if (!r.ok()) ++errors;
        }
        ++cycles;
        units += got->size();
      }
      std::lock_guard<std::mutex> lock(mu);
      get_lat.insert(get_lat.end(), gl.begin(), gl.end());
      fin_lat.insert(fin_lat.end(), fl.begin(), fl.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(duration));
  stop = true;
  for (auto& t : threads) t.join();
  const double secs = Since(start);
  std::printf(
      "do: W=%d K=%d %.1f s: %.0f cycles/s, %.0f units/s, errors %llu; get_work p50 %.2f ms "
      "p99 %.2f ms p999 %.2f ms; finish p50 %.2f ms p99 %.2f ms p999 %.2f ms\n",
      workers, batch, secs, static_cast<double>(cycles) / secs, static_cast<double>(units) / secs,
      static_cast<unsigned long long>(errors.load()), 1e3 * Percentile(get_lat, 0.5),
      1e3 * Percentile(get_lat, 0.99), 1e3 * Percentile(get_lat, 0.999),
      1e3 * Percentile(fin_lat, 0.5), 1e3 * Percentile(fin_lat, 0.99),
      1e3 * Percentile(fin_lat, 0.999));
  return errors ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coordinate-bench: load generator for coordinated"};
  std::string addr, spec = "bench";
  app.add_option("--addr", addr, "HOST:PORT (else $COORDINATE_ADDR, else 127.0.0.1:5932)");
  app.add_option("--spec", spec, "work spec name");
  auto* add = app.add_subcommand("add", "load work units");
  uint64_t count = 100000, batch = 1000, first = 0;
  size_t payload = 100;
  add->add_option("--count", count, "units to add");
  add->add_option("--batch", batch, "units per add_work_units call");
  add->add_option("--first", first, "number of the first key");
  add->add_option("--payload", payload, "bytes of data per unit");
  auto* run = app.add_subcommand("do", "claim and finish work units");
  int workers = 8, k = 1;
  double duration = 10;
  uint64_t preload = 0;
  run->add_option("--workers", workers, "connections");
  run->add_option("--batch", k, "max_jobs per get_work");
  run->add_option("--duration", duration, "seconds");
  run->add_option("--preload", preload, "add this many units first");
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  ClientOptions opts;
  opts.address = addr;
  opts.retries = 0;
  if (add->parsed()) return Add(opts, spec, count, batch, first, payload);
  if (preload > 0) {
    if (int rc = Add(opts, spec, preload, 1000, first, payload); rc != 0) return rc;
  }
  return Do(opts, spec, workers, k, duration);
}
