#include "workload.h"

namespace coordinate::bench {

void Tally::Add(uint64_t round_trips, uint64_t cycles, uint64_t units, uint64_t empty) {
  round_trips_ += round_trips;
  cycles_ += cycles;
  units_ += units;
  empty_ += empty;
}

void Tally::Error(const std::string& what) {
  ++errors_;
  std::lock_guard<std::mutex> lock(mu_);
  if (first_error_.empty()) first_error_ = what;
}

WorkloadResult Tally::Finish(double seconds) {
  WorkloadResult r;
  r.seconds = seconds;
  r.round_trips = round_trips_;
  r.cycles = cycles_;
  r.units = units_;
  r.empty = empty_;
  r.errors = errors_;
  r.first_error = first_error_;
  r.latencies = latencies_.Summarize();
  return r;
}

Value GetWorkParams(const Value& worker, int max_jobs, const Backlog& backlog) {
  Value options = M({{"max_jobs", I(max_jobs)}, {"lease_time", I(300)}});
  if (backlog.specs() == 1) options.Set(B("work_spec_names"), A({B(backlog.spec_name(0))}));
  return A({worker, std::move(options)});
}

std::vector<std::vector<Value>> Grants(const Value& reply, int max_jobs) {
  std::vector<std::vector<Value>> out;
  if (!reply.is_sequence() || reply.items().empty()) return out;
  const Value& body = reply.items()[0];
  if (max_jobs == 1) {
    if (body.is_sequence() && body.items().size() == 3 && !body.items()[0].is_null()) {
      out.push_back(body.items());
    }
  } else if (body.is_sequence()) {
    for (const auto& t : body.items()) {
      if (t.is_sequence() && t.items().size() == 3) out.push_back(t.items());
    }
  }
  return out;
}

}  // namespace coordinate::bench
