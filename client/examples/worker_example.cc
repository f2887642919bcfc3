// coordinate-worker-example: submits a small job and works it with coordinate::Worker.
//
//   coordinate-worker-example [--address HOST:PORT] [--spec NAME] [--units N]
//
// It creates the work spec NAME (default "example"), adds N units (default 10) whose data is
// {"n": i}, then runs a worker that squares each n into data["result"] until no work is left,
// and prints the unit counts by status.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "coordinate/api.h"
#include "coordinate/client.h"
#include "coordinate/worker.h"

int main(int argc, char** argv) {
  coordinate::ClientOptions client_options;
  std::string spec_name = "example";
  int units = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--address") {
      client_options.address = argv[i + 1];
    } else if (flag == "--spec") {
      spec_name = argv[i + 1];
    } else if (flag == "--units") {
      units = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: %s [--address HOST:PORT] [--spec NAME] [--units N]\n", argv[0]);
      return 2;
    }
  }

  coordinate::Client client(client_options);
  coordinate::Api api(client);
  const coordinate::Value spec = coordinate::B(spec_name);
  coordinate::Status s = api.SetWorkSpec(coordinate::M({{"name", spec}}));
  if (!s.ok()) {
    std::fprintf(stderr, "set_work_spec: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<coordinate::WorkUnitItem> items;
  for (int i = 0; i < units; ++i) {
    items.emplace_back(coordinate::B("unit-" + std::to_string(i)),
                       coordinate::M({{"n", coordinate::I(i)}}));
  }
  if (s = api.AddWorkUnits(spec, items); !s.ok()) {
    std::fprintf(stderr, "add_work_units: %s\n", s.ToString().c_str());
    return 1;
  }

  coordinate::WorkerOptions worker_options;
  worker_options.work_spec_names = {spec};
  worker_options.lease_seconds = 30;
  coordinate::Worker worker(client_options, worker_options);
  auto square = [](const coordinate::Lease& lease, coordinate::Value* data) {
    const coordinate::Value* n = data->FindKey("n");
    if (!n || !n->AsInt64()) {
      return coordinate::Status::InvalidArgument("unit " + lease.key.str() + " has no n");
    }
    data->Set(coordinate::B("result"), coordinate::I(*n->AsInt64() * *n->AsInt64()));
    return coordinate::Status::Ok();
  };
  while (true) {
    auto n = worker.RunOnce(square);
    if (!n.ok()) {
      std::fprintf(stderr, "worker: %s\n", n.status().ToString().c_str());
      return 1;
    }
    if (*n == 0) break;
  }
  (void)api.WorkerUnregister(worker.worker_id());

  auto counts = api.CountWorkUnits(spec);
  if (!counts.ok()) {
    std::fprintf(stderr, "count_work_units: %s\n", counts.status().ToString().c_str());
    return 1;
  }
  for (const auto& [status, count] : *counts) {
    std::printf("status %d: %llu\n", status, static_cast<unsigned long long>(count));
  }
  return 0;
}
