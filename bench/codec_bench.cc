// CBOR codec micro-benchmarks (src/common/cbor.h): a typical get_work request and its reply,
// encoded as the client does and decoded as the daemon does (the tag-24 frame through the
// streaming decoder, then the inner map).
#include <benchmark/benchmark.h>

#include <string>

#include "common/cbor.h"
#include "common/value.h"

namespace {

using coordinated::DecodeCbor;
using coordinated::EncodeCbor;
using coordinated::MapOf;
using coordinated::StreamDecoder;
using coordinated::Value;

Value GetWorkRequest() {
  return MapOf(
      {{"id", Value::UInt(12345)},
       {"method", Value::Bytes("get_work")},
       {"params",
        Value::Array({Value::Bytes("worker-0042"),
                      MapOf({{"max_jobs", Value::Int(1)},
                             {"lease_time", Value::Int(300)},
                             {"work_spec_names", Value::Array({Value::Bytes("bench")})}})})}});
}

// ((spec, key, data), None) with 100 bytes of data, as the daemon answers get_work.
Value GetWorkReply() {
  Value grant = Value::Tuple({Value::Bytes("bench"), Value::Bytes("u0000012345"),
                              MapOf({{"p", Value::Bytes(std::string(100, 'x'))}})});
  return MapOf({{"id", Value::UInt(12345)}, {"result", Value::Tuple({std::move(grant), Value()})}});
}

// Tag 24 over a byte string holding the message, as it goes over the wire.
std::string Frame(const Value& message) {
  std::string inner = EncodeCbor(message);
  std::string out;
  coordinated::EncodeHead(6, Value::kTagEncodedCbor, &out);
  coordinated::EncodeHead(2, inner.size(), &out);
  return out + inner;
}

void Encode(benchmark::State& state, const Value& message) {
  for (auto _ : state) {
    std::string frame = Frame(message);
    benchmark::DoNotOptimize(frame);
  }
}

void Decode(benchmark::State& state, const Value& message) {
  const std::string frame = Frame(message);
  for (auto _ : state) {
    StreamDecoder decoder;
    size_t consumed = 0;
    auto r = decoder.Feed(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), &consumed);
    if (r != StreamDecoder::Result::kDone) state.SkipWithError("frame did not decode");
    Value outer = decoder.TakeValue();
    auto inner = DecodeCbor(outer.tagged().str());
    if (!inner.ok()) state.SkipWithError("inner item did not decode");
    benchmark::DoNotOptimize(inner);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

void BM_EncodeGetWorkRequest(benchmark::State& state) { Encode(state, GetWorkRequest()); }
void BM_DecodeGetWorkRequest(benchmark::State& state) { Decode(state, GetWorkRequest()); }
void BM_EncodeGetWorkReply(benchmark::State& state) { Encode(state, GetWorkReply()); }
void BM_DecodeGetWorkReply(benchmark::State& state) { Decode(state, GetWorkReply()); }

BENCHMARK(BM_EncodeGetWorkRequest);
BENCHMARK(BM_DecodeGetWorkRequest);
BENCHMARK(BM_EncodeGetWorkReply);
BENCHMARK(BM_DecodeGetWorkReply);

}  // namespace
